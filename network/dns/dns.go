package dns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/network"
	"github.com/coxswain-io/coxswain/network/internal/kindwatch"
	"github.com/coxswain-io/coxswain/store"
)

// DefaultDomain is the cluster domain.
const DefaultDomain = "cluster.local"

// Config configures a Server.
type Config struct {
	// Store is watched for Services and Endpoints.
	Store store.Store
	// Domain is the cluster domain; default DefaultDomain.
	Domain string
	// Addr is the UDP and TCP listen address, e.g. "10.96.0.10:53";
	// default "127.0.0.1:53". Port 0 picks a free port (see Server.Addr).
	Addr string
	// NetNS, if set, is the network namespace to listen in.
	NetNS string
	// TTL of answers in seconds; default 5.
	TTL uint32
	// Upstream are "host:port" resolvers that names outside the cluster
	// domain are forwarded to, in order until one answers. Empty: such
	// names are REFUSED.
	Upstream []string
}

// Server is the cluster DNS server.
type Server struct {
	cfg    Config
	suffix string // ".svc.<domain>." lower-case
	domain string // "<domain>." lower-case
	ready  chan struct{}
	addr   string

	mu        sync.RWMutex // guards the maps
	services  map[string]*api.Service
	endpoints map[string]*api.Endpoints
}

// New returns a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, store.Errorf(store.ErrInvalid, "dns: Store is required")
	}
	if cfg.Domain == "" {
		cfg.Domain = DefaultDomain
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:53"
	}
	if cfg.TTL == 0 {
		cfg.TTL = 5
	}
	return &Server{
		cfg:       cfg,
		suffix:    ".svc." + strings.ToLower(strings.Trim(cfg.Domain, ".")) + ".",
		domain:    strings.ToLower(strings.Trim(cfg.Domain, ".")) + ".",
		ready:     make(chan struct{}),
		services:  map[string]*api.Service{},
		endpoints: map[string]*api.Endpoints{},
	}, nil
}

// Ready is closed once the server listens and has listed Services and
// Endpoints.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Addr returns the UDP address the server listens on, once Ready.
func (s *Server) Addr() string { return s.addr }

// Start listens, watches the store and serves until ctx ends.
func (s *Server) Start(ctx context.Context) error {
	var pc net.PacketConn
	var ln net.Listener
	listen := func() error {
		var err error
		if pc, err = net.ListenPacket("udp", s.cfg.Addr); err != nil {
			return err
		}
		if ln, err = net.Listen("tcp", pc.LocalAddr().String()); err != nil {
			pc.Close()
			return err
		}
		return nil
	}
	var err error
	if s.cfg.NetNS != "" {
		err = network.Do(s.cfg.NetNS, listen)
	} else {
		err = listen()
	}
	if err != nil {
		return fmt.Errorf("dns listen %s: %w", s.cfg.Addr, err)
	}
	s.addr = pc.LocalAddr().String()
	udp := &mdns.Server{PacketConn: pc, Handler: s}
	tcp := &mdns.Server{Listener: ln, Handler: s}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	listed := make(chan struct{}, 2)
	for _, k := range []struct {
		kind string
		h    kindwatch.Handler
	}{{api.KindService, &watchHandler{s: s, kind: api.KindService, listed: listed}}, {api.KindEndpoints, &watchHandler{s: s, kind: api.KindEndpoints, listed: listed}}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = kindwatch.Run(ctx, s.cfg.Store, k.kind, store.ListOptions{}, k.h)
		}()
	}
	errc := make(chan error, 2)
	for _, srv := range []*mdns.Server{udp, tcp} {
		go func() { errc <- srv.ActivateAndServe() }()
	}
	go func() {
		for range 2 {
			select {
			case <-listed:
			case <-ctx.Done():
				return
			}
		}
		close(s.ready)
	}()
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	cancel()
	_ = udp.Shutdown()
	_ = tcp.Shutdown()
	wg.Wait()
	return serveErr
}

type watchHandler struct {
	s      *Server
	kind   string
	once   sync.Once
	listed chan struct{}
}

// Replace implements kindwatch.Handler.
func (h *watchHandler) Replace(objs []api.Object, _ int64) {
	h.s.mu.Lock()
	if h.kind == api.KindService {
		h.s.services = map[string]*api.Service{}
	} else {
		h.s.endpoints = map[string]*api.Endpoints{}
	}
	for _, o := range objs {
		h.s.put(o)
	}
	h.s.mu.Unlock()
	h.once.Do(func() { h.listed <- struct{}{} })
}

// Apply implements kindwatch.Handler.
func (h *watchHandler) Apply(ev store.Event) {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	if ev.Type == store.EventDeleted {
		k := kindwatch.Key(ev.Object)
		if h.kind == api.KindService {
			delete(h.s.services, k)
		} else {
			delete(h.s.endpoints, k)
		}
		return
	}
	h.s.put(ev.Object)
}

func (s *Server) put(o api.Object) {
	switch v := o.(type) {
	case *api.Service:
		s.services[kindwatch.Key(v)] = v
	case *api.Endpoints:
		s.endpoints[kindwatch.Key(v)] = v
	}
}

// ServeDNS answers one query.
func (s *Server) ServeDNS(w mdns.ResponseWriter, req *mdns.Msg) {
	m := new(mdns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	if len(req.Question) != 1 {
		m.Rcode = mdns.RcodeFormatError
		_ = w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	if len(s.cfg.Upstream) > 0 && !s.inDomain(q.Name) {
		if resp := s.forward(req, w.RemoteAddr().Network()); resp != nil {
			_ = w.WriteMsg(resp)
			return
		}
		m.Rcode = mdns.RcodeServerFailure
		_ = w.WriteMsg(m)
		return
	}
	rrs, rcode := s.Lookup(q.Name, q.Qtype)
	m.Answer = rrs
	m.Rcode = rcode
	if err := w.WriteMsg(m); err != nil {
		slog.Debug("dns write", "err", err)
	}
}

func (s *Server) inDomain(name string) bool {
	name = strings.ToLower(mdns.Fqdn(name))
	return name == s.domain || strings.HasSuffix(name, "."+s.domain)
}

// forward relays req to the upstream resolvers over the client's transport
// and returns the first answer, or nil.
func (s *Server) forward(req *mdns.Msg, network string) *mdns.Msg {
	c := &mdns.Client{Net: network, Timeout: 2 * time.Second}
	for _, up := range s.cfg.Upstream {
		resp, _, err := c.Exchange(req, up)
		if err == nil && resp != nil {
			resp.Id = req.Id
			return resp
		}
		slog.Debug("dns upstream", "upstream", up, "err", err)
	}
	return nil
}

// Lookup answers a question: the records and the response code (NOERROR
// with no records for an existing name without records of that type).
func (s *Server) Lookup(name string, qtype uint16) ([]mdns.RR, int) {
	name = strings.ToLower(mdns.Fqdn(name))
	if !strings.HasSuffix(name, s.suffix) {
		if name == s.domain || strings.HasSuffix(name, "."+s.domain) {
			return nil, mdns.RcodeNameError
		}
		return nil, mdns.RcodeRefused
	}
	labels := strings.Split(strings.TrimSuffix(name, s.suffix), ".")
	s.mu.RLock()
	defer s.mu.RUnlock()
	switch len(labels) {
	case 2: // service.namespace
		return s.serviceRecords(name, labels[1], labels[0], qtype)
	case 3: // hostname.service.namespace
		return s.hostRecords(name, labels[2], labels[1], labels[0], qtype)
	case 4: // _port._proto.service.namespace
		if strings.HasPrefix(labels[0], "_") && strings.HasPrefix(labels[1], "_") {
			return s.srvRecords(name, labels[3], labels[2], labels[0][1:], labels[1][1:], qtype)
		}
	}
	return nil, mdns.RcodeNameError
}

func (s *Server) hdr(name string, t uint16) mdns.RR_Header {
	return mdns.RR_Header{Name: name, Rrtype: t, Class: mdns.ClassINET, Ttl: s.cfg.TTL}
}

func (s *Server) addrRecord(name string, ip netip.Addr, qtype uint16) mdns.RR {
	switch {
	case ip.Is4() && (qtype == mdns.TypeA || qtype == mdns.TypeANY):
		return &mdns.A{Hdr: s.hdr(name, mdns.TypeA), A: ip.AsSlice()}
	case ip.Is6() && (qtype == mdns.TypeAAAA || qtype == mdns.TypeANY):
		return &mdns.AAAA{Hdr: s.hdr(name, mdns.TypeAAAA), AAAA: ip.AsSlice()}
	}
	return nil
}

func (s *Server) serviceRecords(name, ns, svcName string, qtype uint16) ([]mdns.RR, int) {
	svc, ok := s.services[ns+"/"+svcName]
	if !ok {
		return nil, mdns.RcodeNameError
	}
	if svc.GetSpec().GetType() == "ExternalName" {
		target := svc.GetSpec().GetExternalName()
		if target == "" {
			return nil, mdns.RcodeSuccess
		}
		return []mdns.RR{&mdns.CNAME{Hdr: s.hdr(name, mdns.TypeCNAME), Target: mdns.Fqdn(target)}}, mdns.RcodeSuccess
	}
	var ips []netip.Addr
	if ip := svc.GetSpec().GetClusterIp(); ip != "" && ip != "None" {
		if a, err := netip.ParseAddr(ip); err == nil {
			ips = append(ips, a)
		}
	} else {
		ips = readyIPs(s.endpoints[ns+"/"+svcName])
	}
	var out []mdns.RR
	for _, ip := range ips {
		if rr := s.addrRecord(name, ip, qtype); rr != nil {
			out = append(out, rr)
		}
	}
	return out, mdns.RcodeSuccess
}

func (s *Server) hostRecords(name, ns, svcName, host string, qtype uint16) ([]mdns.RR, int) {
	eps := s.endpoints[ns+"/"+svcName]
	if _, ok := s.services[ns+"/"+svcName]; !ok || eps == nil {
		return nil, mdns.RcodeNameError
	}
	for _, ss := range eps.GetSubsets() {
		for _, a := range ss.GetAddresses() {
			if strings.EqualFold(a.GetHostname(), host) {
				if ip, err := netip.ParseAddr(a.GetIp()); err == nil {
					if rr := s.addrRecord(name, ip, qtype); rr != nil {
						return []mdns.RR{rr}, mdns.RcodeSuccess
					}
					return nil, mdns.RcodeSuccess
				}
			}
		}
	}
	return nil, mdns.RcodeNameError
}

func (s *Server) srvRecords(name, ns, svcName, port, proto string, qtype uint16) ([]mdns.RR, int) {
	svc, ok := s.services[ns+"/"+svcName]
	if !ok {
		return nil, mdns.RcodeNameError
	}
	for _, p := range svc.GetSpec().GetPorts() {
		pr := p.GetProtocol()
		if pr == "" {
			pr = "TCP"
		}
		if p.GetName() == "" || !strings.EqualFold(p.GetName(), port) || !strings.EqualFold(pr, proto) {
			continue
		}
		if qtype != mdns.TypeSRV && qtype != mdns.TypeANY {
			return nil, mdns.RcodeSuccess
		}
		target := svcName + "." + ns + s.suffix
		return []mdns.RR{&mdns.SRV{Hdr: s.hdr(name, mdns.TypeSRV), Priority: 0, Weight: 100, Port: uint16(p.GetPort()), Target: target}}, mdns.RcodeSuccess
	}
	return nil, mdns.RcodeNameError
}

func readyIPs(eps *api.Endpoints) []netip.Addr {
	seen := map[netip.Addr]bool{}
	var out []netip.Addr
	for _, ss := range eps.GetSubsets() {
		for _, a := range ss.GetAddresses() {
			if ip, err := netip.ParseAddr(a.GetIp()); err == nil && !seen[ip] {
				seen[ip] = true
				out = append(out, ip)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Less(out[j]) })
	return out
}

// ResolvConf returns the resolv.conf of a pod in namespace: the cluster DNS
// servers, the search path "<ns>.svc.<domain> svc.<domain> <domain>" and
// options ndots:5. An empty domain means DefaultDomain.
func ResolvConf(namespace, domain string, nameservers []string) ([]byte, error) {
	if len(nameservers) == 0 {
		return nil, store.Errorf(store.ErrInvalid, "resolv.conf needs a nameserver")
	}
	if domain == "" {
		domain = DefaultDomain
	}
	domain = strings.Trim(domain, ".")
	var b strings.Builder
	for _, ns := range nameservers {
		if _, err := netip.ParseAddr(ns); err != nil {
			return nil, errors.Join(store.ErrInvalid, fmt.Errorf("nameserver %q: %w", ns, err))
		}
		fmt.Fprintf(&b, "nameserver %s\n", ns)
	}
	fmt.Fprintf(&b, "search %s.svc.%s svc.%s %s\n", namespace, domain, domain, domain)
	b.WriteString("options ndots:5\n")
	return []byte(b.String()), nil
}
