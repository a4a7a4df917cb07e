package raftstore

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
)

// TestJoinLeaveTransfer grows a one-member cluster to three voters and a
// non-voter at run time, moves leadership, removes the old leader, and
// checks every remaining member holds the same state.
func TestJoinLeaveTransfer(t *testing.T) {
	ctx := testCtx(t, 2*time.Minute)
	addrs := freeAddrs(t, 4)
	open := func(id, addr string, bootstrap bool) *Store {
		cfg := testConfig(t, id)
		cfg.Addr, cfg.Bootstrap = addr, bootstrap
		s, err := Open(ctx, cfg)
		if err != nil {
			t.Fatalf("Open %s: %v", id, err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	a := open("a", addrs[0], true)
	if _, err := a.Create(ctx, configMap("before-join", "1")); err != nil {
		t.Fatal(err)
	}
	b := open("b", addrs[1], false)
	cm := open("c", addrs[2], false)
	if err := a.AddVoter(ctx, "b", b.Addr()); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	// Membership changes are forwarded from a follower to the leader.
	if err := b.AddVoter(ctx, "c", cm.Addr()); err != nil {
		t.Fatal(err)
	}
	d := open("d", addrs[3], false)
	if err := cm.AddNonvoter(ctx, "d", d.Addr()); err != nil {
		t.Fatal(err)
	}
	// The non-voter serves reads and forwards writes.
	if _, err := d.Create(ctx, configMap("via-nonvoter", "2")); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Get(ctx, api.KindConfigMap, "ns", "before-join", store.Linearizable()); err != nil {
		t.Fatal(err)
	}
	members, err := d.Members(ctx)
	if err != nil {
		t.Fatal(err)
	}
	voters := 0
	for _, m := range members {
		if m.Voter {
			voters++
		}
	}
	if len(members) != 4 || voters != 3 {
		t.Fatalf("members = %+v, want 3 voters and a non-voter", members)
	}

	if err := d.TransferLeadership(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "c leads", func() error {
		if !cm.IsLeader() {
			id, _ := cm.Leader()
			return &leaderErr{id}
		}
		return nil
	})
	if err := b.RemoveMember(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Create(ctx, configMap("after-leave", "3")); err != nil {
		t.Fatal(err)
	}
	c := &cluster{t: t, cfgs: make([]Config, 3), members: []*Store{b, cm, d}}
	st := c.assertConverged(t, []string{"before-join", "via-nonvoter", "after-leave"})
	if len(st.objects) != 3 {
		t.Fatalf("objects = %v", st.objects)
	}
}

type leaderErr struct{ id string }

func (e *leaderErr) Error() string { return "leader is " + e.id }

// testTLS returns a config with a certificate for 127.0.0.1 signed by a
// fresh CA, used both to serve and to dial, with client certificates
// required.
func testTLS(t *testing.T) *tls.Config {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "member"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		RootCAs:      pool, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert,
		MinVersion: tls.VersionTLS13,
	}
}

func TestTLSBetweenMembers(t *testing.T) {
	conf := testTLS(t)
	c := newCluster(t, 3, func(cfg *Config) { cfg.TLS = conf })
	f := c.get(c.follower())
	ctx := testCtx(t, time.Minute)
	if _, err := f.Create(ctx, configMap("over-tls", "1")); err != nil {
		t.Fatal(err)
	}
	c.assertConverged(t, []string{"over-tls"})

	// A peer without a client certificate is refused.
	addr := c.cfgs[0].Addr
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: conf.RootCAs, MinVersion: tls.VersionTLS13})
	if err == nil {
		_, _ = conn.Write([]byte{protoForward})
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		var b [1]byte
		if _, err = conn.Read(b[:]); err == nil {
			t.Fatal("a peer without a client certificate was served")
		}
		_ = conn.Close()
	}
}
