package libcontainer

import (
	"bufio"
	"maps"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/specconv"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/coxswain-io/coxswain/runtime"
)

// defaultCaps is Docker's default capability set, the one Kubernetes users
// expect; containers adjust it with Add/Drop.
var defaultCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// capabilities applies add and drop ("ALL" drops everything; names with or
// without the CAP_ prefix) to the default set.
func capabilities(add, drop []string) []string {
	norm := func(c string) string {
		c = strings.ToUpper(c)
		if c != "ALL" && !strings.HasPrefix(c, "CAP_") {
			c = "CAP_" + c
		}
		return c
	}
	caps := slices.Clone(defaultCaps)
	for _, d := range drop {
		d = norm(d)
		if d == "ALL" {
			caps = nil
			break
		}
		caps = slices.DeleteFunc(caps, func(c string) bool { return c == d })
	}
	for _, a := range add {
		if a = norm(a); a != "ALL" && !slices.Contains(caps, a) {
			caps = append(caps, a)
		}
	}
	return caps
}

// nofile is the open-files limit of containers: Docker's 1048576, or the
// runtime's own hard limit when that is lower (a container cannot be given
// more than the kernel lets this process set).
func nofile() uint64 {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err == nil && lim.Max < 1<<20 {
		return lim.Max
	}
	return 1 << 20
}

// libcontainerConfig builds the libcontainer configuration of a container.
func (r *Runtime) libcontainerConfig(rec *containerRecord, sb *sandboxRecord) (*configs.Config, error) {
	spec := specconv.Example()
	spec.Root = &specs.Root{Path: rec.Rootfs, Readonly: rec.Config.Security.ReadOnlyRootfs}
	caps := capabilities(rec.Config.Security.AddCapabilities, rec.Config.Security.DropCapabilities)
	spec.Process = &specs.Process{
		User: specs.User{UID: uint32(rec.UID), GID: uint32(rec.GID)},
		Args: rec.Argv, Env: rec.Env, Cwd: rec.Cwd,
		NoNewPrivileges: !rec.Config.Security.AllowPrivilegeEscalation,
		Capabilities: &specs.LinuxCapabilities{
			Bounding: caps, Permitted: caps, Effective: caps,
		},
		Rlimits: []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: nofile(), Soft: nofile()}},
	}
	// The hostname belongs to the sandbox's UTS namespace.
	spec.Hostname = ""
	var nss []specs.LinuxNamespace
	for _, ns := range spec.Linux.Namespaces {
		switch ns.Type {
		case specs.NetworkNamespace:
			ns.Path = sb.NS["net"]
		case specs.IPCNamespace:
			ns.Path = sb.NS["ipc"]
		case specs.UTSNamespace:
			ns.Path = sb.NS["uts"]
		}
		nss = append(nss, ns)
	}
	spec.Linux.Namespaces = nss
	spec.Linux.CgroupsPath = rec.Cgroup
	for _, m := range rec.Config.Mounts {
		opts := []string{"rbind", "rprivate"}
		if m.ReadOnly {
			opts = append(opts, "ro")
		}
		spec.Mounts = append(spec.Mounts, specs.Mount{Destination: m.ContainerPath, Type: "bind", Source: m.HostPath, Options: opts})
	}
	for _, dest := range slices.Sorted(maps.Keys(sb.Files)) {
		if slices.ContainsFunc(rec.Config.Mounts, func(m runtime.Mount) bool { return path.Clean(m.ContainerPath) == dest }) {
			continue // the container mounts its own
		}
		spec.Mounts = append(spec.Mounts, specs.Mount{Destination: dest, Type: "bind", Source: sb.Files[dest], Options: []string{"rbind", "rprivate"}})
	}
	res := rec.Config.Resources
	lr := spec.Linux.Resources
	if res.CPUShares > 0 || res.CPUQuota > 0 {
		lr.CPU = &specs.LinuxCPU{}
		if res.CPUShares > 0 {
			lr.CPU.Shares = &res.CPUShares
		}
		if res.CPUQuota > 0 {
			period := res.CPUPeriod
			if period == 0 {
				period = 100000
			}
			lr.CPU.Quota, lr.CPU.Period = &res.CPUQuota, &period
		}
	}
	if res.MemoryLimit > 0 {
		lr.Memory = &specs.LinuxMemory{Limit: &res.MemoryLimit}
	}
	pids := res.PidsLimit
	if pids == 0 {
		pids = r.cfg.DefaultPidsLimit
	}
	if pids > 0 {
		lr.Pids = &specs.LinuxPids{Limit: &pids}
	}
	cfg, err := specconv.CreateLibcontainerConfig(&specconv.CreateOpts{CgroupName: rec.Status.ID, Spec: spec})
	if err != nil {
		return nil, runtime.Errorf(runtime.ErrInvalid, "container %s: %v", rec.Status.Name, err)
	}
	return cfg, nil
}

// resolveUser returns the uid, gid, supplementary groups and home of the
// container's user: RunAsUser/RunAsGroup when set, else the image's user
// ("uid", "uid:gid", "name", "name:group"), looked up in the root's
// /etc/passwd and /etc/group.
func resolveUser(rootfs, imageUser string, sec runtime.SecurityConfig) (uid, gid int, groups []int, home string, err error) {
	passwd := readColonFile(rootfs, "/etc/passwd")
	group := readColonFile(rootfs, "/etc/group")
	home = "/"
	userPart, groupPart, hasGroup := strings.Cut(imageUser, ":")
	byUID := func(id int) []string {
		for _, f := range passwd {
			if len(f) >= 7 && f[2] == strconv.Itoa(id) {
				return f
			}
		}
		return nil
	}
	var entry []string
	switch {
	case sec.RunAsUser != nil:
		uid = int(*sec.RunAsUser)
		entry = byUID(uid)
		hasGroup = false
	case userPart == "":
		uid = 0
		entry = byUID(0)
	default:
		if n, convErr := strconv.Atoi(userPart); convErr == nil {
			uid = n
			entry = byUID(n)
		} else {
			for _, f := range passwd {
				if len(f) >= 7 && f[0] == userPart {
					entry = f
				}
			}
			if entry == nil {
				return 0, 0, nil, "", runtime.Errorf(runtime.ErrInvalid, "user %q not found in the image's /etc/passwd", userPart)
			}
			uid, _ = strconv.Atoi(entry[2])
		}
	}
	if entry != nil {
		gid, _ = strconv.Atoi(entry[3])
		home = entry[5]
	}
	switch {
	case sec.RunAsGroup != nil:
		gid = int(*sec.RunAsGroup)
	case hasGroup && groupPart != "":
		if n, convErr := strconv.Atoi(groupPart); convErr == nil {
			gid = n
		} else {
			found := false
			for _, f := range group {
				if len(f) >= 3 && f[0] == groupPart {
					gid, _ = strconv.Atoi(f[2])
					found = true
				}
			}
			if !found {
				return 0, 0, nil, "", runtime.Errorf(runtime.ErrInvalid, "group %q not found in the image's /etc/group", groupPart)
			}
		}
	}
	if entry != nil {
		for _, f := range group {
			if len(f) >= 4 && slices.Contains(strings.Split(f[3], ","), entry[0]) {
				if g, convErr := strconv.Atoi(f[2]); convErr == nil && g != gid {
					groups = append(groups, g)
				}
			}
		}
	}
	return uid, gid, groups, home, nil
}

// readColonFile reads a passwd-style file inside rootfs without following
// symlinks out of it; a missing file reads as empty.
func readColonFile(rootfs, name string) [][]string {
	p, err := securejoin.SecureJoin(rootfs, name)
	if err != nil {
		return nil
	}
	f, err := os.Open(p)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, strings.Split(line, ":"))
	}
	return out
}

// envHas reports whether env ("K=V") sets key.
func envHas(env []string, key string) bool {
	return slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, key+"=") })
}

func withDefaults(env []string, home string) []string {
	if !envHas(env, "PATH") {
		env = append(env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	}
	if !envHas(env, "HOME") {
		env = append(env, "HOME="+home)
	}
	return env
}
