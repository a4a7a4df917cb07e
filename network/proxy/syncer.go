package proxy

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/coreos/go-iptables/iptables"
)

// SyncerConfig configures a Syncer.
type SyncerConfig struct {
	// NetNS is the path of the network namespace to program ("" = the
	// caller's), e.g. a node namespace in tests.
	NetNS string
	// RestoreCommand and SaveCommand are the iptables-restore and
	// iptables-save binaries; empty means "iptables-restore" and
	// "iptables-save" from PATH. The nf_tables backend is the one measured.
	RestoreCommand, SaveCommand string
	// IptablesCommand is the iptables binary; default "iptables".
	IptablesCommand string
	// NftCommand is the nft binary used to list chains quickly on the
	// nf_tables backend; default "nft". Set it to "-" to always use
	// iptables-save.
	NftCommand string
	// MaxNewChainsPerRestore splits an incremental sync that creates many
	// chains into several restores, each creating at most about this many
	// (whole services are never split). A --noflush restore's cost grows
	// quadratically with the chains it creates on nf_tables (3,000 new
	// chains ~0.4 s, 15,000 ~11 s), linearly across restores. 0 means
	// DefaultMaxNewChainsPerRestore.
	MaxNewChainsPerRestore int
}

// DefaultMaxNewChainsPerRestore is the default of
// SyncerConfig.MaxNewChainsPerRestore (about 1,000 services).
const DefaultMaxNewChainsPerRestore = 3000

// Syncer applies RuleSets to the nat table, incrementally after the first
// sync. It is safe for concurrent use; syncs are serialized.
type Syncer struct {
	cfg SyncerConfig
	mu  sync.Mutex
	// applied is what the kernel holds, as parts by key (see SyncParts);
	// nil when unknown, which makes the next sync a full one.
	applied map[string]*RuleSet
}

// NewSyncer returns a Syncer.
func NewSyncer(cfg SyncerConfig) *Syncer {
	if cfg.RestoreCommand == "" {
		cfg.RestoreCommand = "iptables-restore"
	}
	if cfg.SaveCommand == "" {
		cfg.SaveCommand = "iptables-save"
	}
	if cfg.MaxNewChainsPerRestore == 0 {
		cfg.MaxNewChainsPerRestore = DefaultMaxNewChainsPerRestore
	}
	if cfg.IptablesCommand == "" {
		cfg.IptablesCommand = "iptables"
	}
	switch cfg.NftCommand {
	case "":
		cfg.NftCommand = "nft"
	case "-":
		cfg.NftCommand = ""
	}
	return &Syncer{cfg: cfg}
}

// SyncResult describes one sync.
type SyncResult struct {
	// Full is true when the whole nat table was replaced.
	Full bool
	// Chains is the number of chains written or deleted; Lines the number of
	// lines given to iptables-restore.
	Chains, Lines int
	// Duration is the time spent, including iptables-restore.
	Duration time.Duration
}

// jump is a rule in a built-in chain leading to one of ours.
type jump struct{ table, chain, rule string }

var jumps = []jump{
	{"nat", "PREROUTING", "-m comment --comment coxswain-services -j " + ChainServices},
	{"nat", "OUTPUT", "-m comment --comment coxswain-services -j " + ChainServices},
	{"nat", "PREROUTING", "-m comment --comment coxswain-nodeports -m addrtype --dst-type LOCAL -j " + ChainNodePorts},
	{"nat", "OUTPUT", "-m comment --comment coxswain-nodeports -m addrtype --dst-type LOCAL -j " + ChainNodePorts},
	{"nat", "POSTROUTING", "-m comment --comment coxswain-postrouting -j " + ChainPostrouting},
	{"filter", "INPUT", "-m conntrack --ctstate NEW -m comment --comment coxswain-reject -j " + ChainReject},
	{"filter", "FORWARD", "-m conntrack --ctstate NEW -m comment --comment coxswain-reject -j " + ChainReject},
	{"filter", "OUTPUT", "-m conntrack --ctstate NEW -m comment --comment coxswain-reject -j " + ChainReject},
}

// Sync makes the nat table hold rs, a whole rule set (see BuildRules). The
// first sync (and the first after a failure) replaces the table, keeping
// other owners' rules; later ones write only what changed.
func (s *Syncer) Sync(ctx context.Context, rs *RuleSet) (SyncResult, error) {
	return s.SyncParts(ctx, map[string]*RuleSet{"": rs}, nil)
}

// SyncParts makes the nat table hold the merge of parts (keyed by any stable
// name, e.g. FixedRules under one key and each service's ServiceRules under
// its namespace/name). changed lists the keys whose part may differ from the
// last sync; nil means all. After a first full sync only the changed parts
// are compared and written, so the cost follows the size of the change, not
// of the table. The Syncer does not modify parts; it keeps references to the
// RuleSets (not the map), which the caller must not modify afterwards.
func (s *Syncer) SyncParts(ctx context.Context, parts map[string]*RuleSet, changed []string) (SyncResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	start := time.Now()
	var res SyncResult
	var err error
	if s.applied == nil {
		res, err = s.fullParts(ctx, parts)
	} else {
		res, err = s.incrementalParts(ctx, parts, changed)
	}
	res.Duration = time.Since(start)
	if err != nil {
		s.applied = nil
	}
	return res, err
}

// fullParts replaces the table with the merge of parts.
func (s *Syncer) fullParts(ctx context.Context, parts map[string]*RuleSet) (SyncResult, error) {
	keys := make([]string, 0, len(parts))
	for k := range parts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	list := make([]*RuleSet, len(keys))
	for i, k := range keys {
		list[i] = parts[k]
	}
	res, err := s.fullSync(ctx, Merge(list...))
	if err != nil {
		return res, err
	}
	s.applied = make(map[string]*RuleSet, len(parts))
	for k, p := range parts {
		s.applied[k] = p
	}
	return res, nil
}

// incrementalParts writes what changed in the changed parts (nil: all),
// in as many --noflush restores as MaxNewChainsPerRestore asks for. Parts
// are recorded as applied batch by batch, so a failure leaves an exact
// record of what went in (and the caller forgets it all anyway).
func (s *Syncer) incrementalParts(ctx context.Context, parts map[string]*RuleSet, changed []string) (SyncResult, error) {
	if changed == nil {
		for k := range parts {
			changed = append(changed, k)
		}
		for k := range s.applied {
			if _, ok := parts[k]; !ok {
				changed = append(changed, k)
			}
		}
	}
	sort.Strings(changed)
	var res SyncResult
	var d differ
	var batch []string
	flush := func() error {
		in, chains := d.bytes()
		if chains > 0 {
			res.Chains += chains
			res.Lines += bytes.Count(in, []byte{'\n'})
			if _, err := s.run(ctx, in, s.cfg.RestoreCommand, "-w", "5", "--noflush"); err != nil {
				return err
			}
		}
		for _, k := range batch {
			if p, ok := parts[k]; ok {
				s.applied[k] = p
			} else {
				delete(s.applied, k)
			}
		}
		d, batch = differ{}, batch[:0]
		return nil
	}
	for _, k := range changed {
		d.part(s.applied[k], parts[k])
		batch = append(batch, k)
		if d.created >= s.cfg.MaxNewChainsPerRestore {
			if err := flush(); err != nil {
				return res, err
			}
		}
	}
	return res, flush()
}

// Invalidate forgets what is applied, so the next Sync is a full one.
func (s *Syncer) Invalidate() {
	s.mu.Lock()
	s.applied = nil
	s.mu.Unlock()
}

func (s *Syncer) fullSync(ctx context.Context, rs *RuleSet) (SyncResult, error) {
	decls, rules, err := s.foreignNat(ctx)
	if err != nil {
		return SyncResult{Full: true}, err
	}
	builtin := map[string]bool{}
	for _, d := range decls {
		builtin[strings.Fields(d)[0][1:]] = true
	}
	var b bytes.Buffer
	b.WriteString("*nat\n")
	for _, c := range []string{"PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"} {
		if !builtin[c] {
			fmt.Fprintf(&b, ":%s ACCEPT [0:0]\n", c)
		}
	}
	for _, d := range decls {
		b.WriteString(d)
		b.WriteByte('\n')
	}
	var names []string
	var filter bytes.Buffer
	for _, c := range sortedChains(rs) {
		table, name := tableOf(c)
		if table == "nat" {
			names = append(names, c)
			continue
		}
		// Our filter chains are few and small: flushed and rewritten in
		// place, leaving the rest of the filter table alone.
		fmt.Fprintf(&filter, ":%s - [0:0]\n", name)
		for _, r := range rs.Chains[c] {
			writeRule(&filter, name, r)
		}
	}
	for _, c := range names {
		fmt.Fprintf(&b, ":%s - [0:0]\n", c)
	}
	for _, r := range rules {
		b.WriteString(r)
		b.WriteByte('\n')
	}
	for _, c := range names {
		for _, r := range rs.Chains[c] {
			writeRule(&b, c, r)
		}
	}
	b.WriteString("COMMIT\n")
	lines := bytes.Count(b.Bytes(), []byte{'\n'})
	if _, err := s.run(ctx, b.Bytes(), s.cfg.RestoreCommand, "-w", "5"); err != nil {
		return SyncResult{Full: true, Lines: lines}, err
	}
	if filter.Len() > 0 {
		in := append(append([]byte("*filter\n"), filter.Bytes()...), "COMMIT\n"...)
		lines += bytes.Count(in, []byte{'\n'})
		if _, err := s.run(ctx, in, s.cfg.RestoreCommand, "-w", "5", "--noflush"); err != nil {
			return SyncResult{Full: true, Lines: lines}, err
		}
	}
	if err := s.ensureJumps(); err != nil {
		return SyncResult{Full: true, Lines: lines}, err
	}
	return SyncResult{Full: true, Chains: len(names), Lines: lines}, nil
}

// foreignNat returns the nat table's chain declarations and rules that are
// not this package's, in iptables-restore syntax.
//
// With the nf_tables backend and the nft tool at hand it lists the chain
// names with nft and reads only the foreign chains with iptables -S: with
// 10,000 services programmed (after a restart) that takes well under a
// second, where iptables-save of the whole table takes ~6-9 s. Otherwise it
// filters iptables-save.
func (s *Syncer) foreignNat(ctx context.Context) (decls, rules []string, err error) {
	if chains, ok := s.nftChains(ctx, "nat"); ok {
		for _, c := range chains {
			if strings.HasPrefix(c, ChainPrefix) {
				continue
			}
			out, err := s.run(ctx, nil, s.cfg.IptablesCommand, "-w", "5", "-t", "nat", "-S", c)
			if err != nil {
				return nil, nil, err
			}
			for _, line := range strings.Split(string(out), "\n") {
				f := strings.Fields(line)
				switch {
				case len(f) == 3 && f[0] == "-P":
					decls = append(decls, fmt.Sprintf(":%s %s [0:0]", f[1], f[2]))
				case len(f) == 2 && f[0] == "-N":
					decls = append(decls, fmt.Sprintf(":%s - [0:0]", f[1]))
				case len(f) > 2 && f[0] == "-A":
					rules = append(rules, line)
				}
			}
		}
		return decls, rules, nil
	}
	saved, err := s.run(ctx, nil, s.cfg.SaveCommand, "-t", "nat")
	if err != nil {
		return nil, nil, err
	}
	for _, line := range strings.Split(string(saved), "\n") {
		switch {
		case strings.HasPrefix(line, ":"+ChainPrefix), strings.HasPrefix(line, "-A "+ChainPrefix):
			// ours: rewritten by the caller
		case strings.HasPrefix(line, ":"):
			decls = append(decls, line)
		case strings.HasPrefix(line, "-A "):
			rules = append(rules, line)
		}
	}
	return decls, rules, nil
}

// nftChains lists the chains of an ip table with nft, if iptables uses the
// nf_tables backend and nft is installed.
func (s *Syncer) nftChains(ctx context.Context, table string) ([]string, bool) {
	if s.cfg.NftCommand == "" {
		return nil, false
	}
	if _, err := exec.LookPath(s.cfg.NftCommand); err != nil {
		return nil, false
	}
	v, err := s.run(ctx, nil, s.cfg.IptablesCommand, "--version")
	if err != nil || !strings.Contains(string(v), "nf_tables") {
		return nil, false
	}
	out, err := s.run(ctx, nil, s.cfg.NftCommand, "list", "chains", "ip")
	if err != nil {
		return nil, false
	}
	var chains []string
	inTable := false
	for _, line := range strings.Split(string(out), "\n") {
		t := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "table "):
			inTable = t == "table ip "+table+" {"
		case inTable && strings.HasPrefix(t, "chain "):
			if f := strings.Fields(t); len(f) >= 2 {
				chains = append(chains, f[1])
			}
		}
	}
	return chains, true
}

func writeRule(b *bytes.Buffer, chain, rule string) {
	b.WriteString("-A ")
	b.WriteString(chain)
	b.WriteByte(' ')
	b.WriteString(rule)
	b.WriteByte('\n')
}

func sortedChains(rs *RuleSet) []string {
	names := make([]string, 0, len(rs.Chains))
	for c := range rs.Chains {
		names = append(names, c)
	}
	sort.Strings(names)
	return names
}

// Diff returns the iptables-restore --noflush input that turns the nat
// chains holding old into ones holding new, and how many chains it touches.
// It is empty when nothing changed. The shared chains (CX-SERVICES,
// CX-NODEPORTS) are edited rule by rule and never flushed or deleted, so old
// and new may also be two versions of one part (see ServiceRules).
func Diff(old, new *RuleSet) ([]byte, int) {
	var d differ
	d.part(old, new)
	return d.bytes()
}

// differ accumulates the diffs of several parts into one restore input:
// per table, chain declarations (which flush) first, then rule deletions,
// additions, and chain deletions last, once nothing refers to them.
type differ struct {
	tables  map[string]*tableDiff
	chains  int
	created int // chains that did not exist before (cost of the restore)
}

type tableDiff struct {
	decl, del, add, drop bytes.Buffer
}

func (d *differ) table(key string) (*tableDiff, string) {
	table, name := tableOf(key)
	if d.tables == nil {
		d.tables = map[string]*tableDiff{}
	}
	td := d.tables[table]
	if td == nil {
		td = &tableDiff{}
		d.tables[table] = td
	}
	return td, name
}

func (d *differ) part(old, new *RuleSet) {
	if old == nil {
		old = &RuleSet{}
	}
	if new == nil {
		new = &RuleSet{}
	}
	for _, c := range sortedChains(new) {
		want := new.Chains[c]
		have, existed := old.Chains[c]
		td, name := d.table(c)
		switch {
		case unordered(c):
			if td.editRules(name, have, want) {
				d.chains++
			}
		case !existed, !equal(have, want):
			if !existed {
				d.created++
			}
			fmt.Fprintf(&td.decl, ":%s - [0:0]\n", name)
			for _, r := range want {
				writeRule(&td.add, name, r)
			}
			d.chains++
		}
	}
	for _, c := range sortedChains(old) {
		if _, ok := new.Chains[c]; ok {
			continue
		}
		td, name := d.table(c)
		if unordered(c) {
			if td.editRules(name, old.Chains[c], nil) {
				d.chains++
			}
			continue
		}
		fmt.Fprintf(&td.decl, ":%s - [0:0]\n", name)
		fmt.Fprintf(&td.drop, "-X %s\n", name)
		d.chains++
	}
}

// editRules writes -D and -A lines turning have into want, in a chain whose
// rule order does not matter; it reports whether anything changed.
func (td *tableDiff) editRules(c string, have, want []string) bool {
	haveSet := make(map[string]bool, len(have))
	for _, r := range have {
		haveSet[r] = true
	}
	wantSet := make(map[string]bool, len(want))
	changed := false
	for _, r := range want {
		wantSet[r] = true
		if !haveSet[r] {
			writeRule(&td.add, c, r)
			changed = true
		}
	}
	for _, r := range have {
		if !wantSet[r] {
			td.del.WriteString("-D " + c + " " + r + "\n")
			changed = true
		}
	}
	return changed
}

func (d *differ) bytes() ([]byte, int) {
	if d.chains == 0 {
		return nil, 0
	}
	var b bytes.Buffer
	for _, table := range []string{"filter", "nat"} {
		td := d.tables[table]
		if td == nil || td.decl.Len()+td.del.Len()+td.add.Len()+td.drop.Len() == 0 {
			continue
		}
		b.WriteString("*" + table + "\n")
		b.Write(td.decl.Bytes())
		b.Write(td.del.Bytes())
		b.Write(td.add.Bytes())
		b.Write(td.drop.Bytes())
		b.WriteString("COMMIT\n")
	}
	return b.Bytes(), d.chains
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Cleanup removes every rule and chain this package owns from the nat table.
func (s *Syncer) Cleanup(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.applied = nil
	err := s.inNetNS(func() error {
		ipt, err := iptables.New()
		if err != nil {
			return fmt.Errorf("iptables: %w", err)
		}
		for _, j := range jumps {
			if err := ipt.DeleteIfExists(j.table, j.chain, strings.Fields(j.rule)...); err != nil {
				return fmt.Errorf("delete jump from %s: %w", j.chain, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	var in bytes.Buffer
	for _, table := range []string{"filter", "nat"} {
		chains, err := s.ownChains(ctx, table)
		if err != nil {
			return err
		}
		if len(chains) == 0 {
			continue
		}
		in.WriteString("*" + table + "\n")
		for _, c := range chains {
			fmt.Fprintf(&in, ":%s - [0:0]\n", c)
		}
		for _, c := range chains {
			fmt.Fprintf(&in, "-X %s\n", c)
		}
		in.WriteString("COMMIT\n")
	}
	if in.Len() == 0 {
		return nil
	}
	_, err = s.run(ctx, in.Bytes(), s.cfg.RestoreCommand, "-w", "5", "--noflush")
	return err
}

// ownChains lists this package's chains in table.
func (s *Syncer) ownChains(ctx context.Context, table string) ([]string, error) {
	var out []string
	if chains, ok := s.nftChains(ctx, table); ok {
		for _, c := range chains {
			if strings.HasPrefix(c, ChainPrefix) {
				out = append(out, c)
			}
		}
		return out, nil
	}
	saved, err := s.run(ctx, nil, s.cfg.SaveCommand, "-t", table)
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(saved), "\n") {
		if strings.HasPrefix(line, ":"+ChainPrefix) {
			out = append(out, strings.Fields(line)[0][1:])
		}
	}
	return out, nil
}

func (s *Syncer) ensureJumps() error {
	return s.inNetNS(func() error {
		ipt, err := iptables.New()
		if err != nil {
			return fmt.Errorf("iptables: %w", err)
		}
		for _, j := range jumps {
			if err := ipt.AppendUnique(j.table, j.chain, strings.Fields(j.rule)...); err != nil {
				return fmt.Errorf("jump from %s: %w", j.chain, err)
			}
		}
		return nil
	})
}

// CheckJumps reports whether every jump rule from the built-in chains is in
// place (someone flushing the table removes them).
func (s *Syncer) CheckJumps() (bool, error) {
	ok := true
	err := s.inNetNS(func() error {
		ipt, err := iptables.New()
		if err != nil {
			return fmt.Errorf("iptables: %w", err)
		}
		for _, j := range jumps {
			exists, err := ipt.Exists(j.table, j.chain, strings.Fields(j.rule)...)
			if err != nil {
				return err
			}
			ok = ok && exists
		}
		return nil
	})
	return ok, err
}

func (s *Syncer) inNetNS(fn func() error) error {
	if s.cfg.NetNS == "" {
		return fn()
	}
	return ns.WithNetNSPath(s.cfg.NetNS, func(ns.NetNS) error { return fn() })
}

// run runs a command with stdin in the Syncer's network namespace (the
// child inherits the namespace of the locked thread that forks it).
func (s *Syncer) run(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error) {
	var out []byte
	err := s.inNetNS(func() error {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		cmd := exec.CommandContext(ctx, name, args...)
		if stdin != nil {
			cmd.Stdin = bytes.NewReader(stdin)
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		o, err := cmd.Output()
		if err != nil {
			slog.DebugContext(ctx, "iptables command failed", "cmd", name, "stderr", stderr.String())
			return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
		}
		out = o
		return nil
	})
	return out, err
}
