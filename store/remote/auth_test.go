package remote_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
	"github.com/coxswain-io/coxswain/store/remote"
)

// testPKI is a CA with a server certificate for 127.0.0.1 and a way to
// issue client certificates.
type testPKI struct {
	caCert *x509.Certificate
	caKey  *ecdsa.PrivateKey
	pool   *x509.CertPool
	server tls.Certificate
}

func newPKI(t *testing.T) *testPKI {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "coxswain test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	p := &testPKI{caCert: ca, caKey: key, pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	p.server = p.issue(t, pkix.Name{CommonName: "coxswain"}, x509.ExtKeyUsageServerAuth, []net.IP{net.IPv4(127, 0, 0, 1)})
	return p
}

func (p *testPKI) issue(t *testing.T, subject pkix.Name, usage x509.ExtKeyUsage, ips []net.IP) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      subject,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		IPAddresses:  ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.caCert, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// secureEnv is a TLS server with token and client-certificate
// authentication and RBAC over a memstore.
type secureEnv struct {
	pki *testPKI
	mem *memstore.Store
	url string
}

func newSecureEnv(t *testing.T) *secureEnv {
	t.Helper()
	pki := newPKI(t)
	mem := memstore.New()
	t.Cleanup(func() { _ = mem.Close() })
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "tokens.csv")
	tokens := "# token,user,groups...\nadmin-token,admin,system:masters\nalice-token,alice\nbob-token,bob,ops,dev\n"
	if err := os.WriteFile(tokenFile, []byte(tokens), 0o600); err != nil {
		t.Fatal(err)
	}
	ta, err := remote.LoadTokenFile(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := remote.NewServer(remote.ServerConfig{
		Store:         mem,
		Authenticator: remote.Chain(ta, remote.ClientCertAuthenticator()),
		Authorizer:    remote.NewRBACAuthorizer(mem),
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(srv.Handler())
	hs.TLS = &tls.Config{Certificates: []tls.Certificate{pki.server}, ClientCAs: pki.pool, ClientAuth: tls.VerifyClientCertIfGiven, MinVersion: tls.VersionTLS12}
	hs.Config.ErrorLog = log.New(io.Discard, "", 0) // handshake failures are expected here
	hs.StartTLS()
	t.Cleanup(hs.Close)
	return &secureEnv{pki: pki, mem: mem, url: hs.URL}
}

func (e *secureEnv) client(t *testing.T, token string, certs ...tls.Certificate) *remote.Client {
	t.Helper()
	c, err := remote.NewClient(remote.ClientConfig{
		Servers: []string{e.url},
		Token:   token,
		TLS:     &tls.Config{RootCAs: e.pki.pool, Certificates: certs, MinVersion: tls.VersionTLS12},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestAuthorization(t *testing.T) {
	e := newSecureEnv(t)
	ctx := context.Background()
	admin := e.client(t, "admin-token")
	seed := []api.Object{
		testPod("team", "p"),
		testPod("other", "p"),
		&api.ConfigMap{Metadata: &api.ObjectMeta{Namespace: "team", Name: "cfg"}},
		&api.ConfigMap{Metadata: &api.ObjectMeta{Namespace: "team", Name: "secret-cfg"}},
		&api.Node{Metadata: &api.ObjectMeta{Name: "n1"}},
		&api.Role{Metadata: &api.ObjectMeta{Namespace: "team", Name: "pod-reader"}, Rules: []*api.PolicyRule{
			{Verbs: []string{"get", "list", "watch"}, ApiGroups: []string{""}, Resources: []string{"pods"}},
			{Verbs: []string{"update"}, ApiGroups: []string{""}, Resources: []string{"pods/status"}},
			{Verbs: []string{"get"}, ApiGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{"cfg"}},
		}},
		&api.RoleBinding{Metadata: &api.ObjectMeta{Namespace: "team", Name: "alice-reads"},
			Subjects: []*api.Subject{{Kind: "User", Name: "alice"}},
			RoleRef:  &api.RoleRef{ApiGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "pod-reader"}},
		&api.ClusterRole{Metadata: &api.ObjectMeta{Name: "node-viewer"}, Rules: []*api.PolicyRule{
			{Verbs: []string{"get", "list", "watch"}, ApiGroups: []string{""}, Resources: []string{"nodes"}},
			{Verbs: []string{"*"}, ApiGroups: []string{"apps"}, Resources: []string{"*"}},
		}},
		&api.ClusterRoleBinding{Metadata: &api.ObjectMeta{Name: "ops-view-nodes"},
			Subjects: []*api.Subject{{Kind: "Group", Name: "ops"}},
			RoleRef:  &api.RoleRef{ApiGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "node-viewer"}},
	}
	for _, obj := range seed {
		if _, err := admin.Create(ctx, obj); err != nil {
			t.Fatalf("admin create: %v", err)
		}
	}
	aliceCert := e.pki.issue(t, pkix.Name{CommonName: "alice"}, x509.ExtKeyUsageClientAuth, nil)
	alice := e.client(t, "alice-token")
	aliceByCert := e.client(t, "", aliceCert)
	bob := e.client(t, "bob-token")
	nobody := e.client(t, "")
	liar := e.client(t, "wrong-token")

	deploy := &api.Deployment{Metadata: &api.ObjectMeta{Namespace: "team", Name: "d"}, Spec: &api.DeploymentSpec{}}
	pod, _ := e.mem.Get(ctx, api.KindPod, "team", "p")
	tests := []struct {
		name  string
		call  func() error
		allow bool
	}{
		{"alice gets a pod in team", func() error { _, err := alice.Get(ctx, api.KindPod, "team", "p"); return err }, true},
		{"alice (by certificate) gets a pod in team", func() error { _, err := aliceByCert.Get(ctx, api.KindPod, "team", "p"); return err }, true},
		{"alice lists pods in team", func() error { _, err := alice.List(ctx, api.KindPod, store.ListOptions{Namespace: "team"}); return err }, true},
		{"alice watches pods in team", func() error {
			w, err := alice.Watch(ctx, api.KindPod, store.WatchOptions{Namespace: "team"})
			if err == nil {
				w.Stop()
			}
			return err
		}, true},
		{"alice updates pod status in team", func() error { _, err := alice.UpdateStatus(ctx, pod); return err }, true},
		{"alice cannot update a pod", func() error { _, err := alice.Update(ctx, pod); return err }, false},
		{"alice cannot create a pod", func() error { _, err := alice.Create(ctx, testPod("team", "new")); return err }, false},
		{"alice cannot delete a pod", func() error {
			_, err := alice.Delete(ctx, api.KindPod, "team", "p", store.DeleteOptions{})
			return err
		}, false},
		{"alice cannot read pods in other", func() error { _, err := alice.Get(ctx, api.KindPod, "other", "p"); return err }, false},
		{"alice cannot list pods everywhere", func() error { _, err := alice.List(ctx, api.KindPod, store.ListOptions{}); return err }, false},
		{"alice gets the named configmap", func() error { _, err := alice.Get(ctx, api.KindConfigMap, "team", "cfg"); return err }, true},
		{"alice cannot get another configmap", func() error { _, err := alice.Get(ctx, api.KindConfigMap, "team", "secret-cfg"); return err }, false},
		{"alice cannot list configmaps", func() error {
			_, err := alice.List(ctx, api.KindConfigMap, store.ListOptions{Namespace: "team"})
			return err
		}, false},
		{"alice cannot sneak a create into a txn", func() error {
			_, err := alice.Txn(ctx, store.CheckOp(api.KindPod, "team", "p", 0), store.CreateOp(testPod("team", "sneak")))
			return err
		}, false},
		{"alice cannot compact", func() error { return alice.Compact(ctx, 1) }, false},
		{"alice reads the revision", func() error { _, err := alice.Revision(ctx); return err }, true},
		{"anonymous cannot read the revision", func() error { _, err := nobody.Revision(ctx); return err }, false},
		{"bob lists nodes", func() error { _, err := bob.List(ctx, api.KindNode, store.ListOptions{}); return err }, true},
		{"bob creates deployments anywhere", func() error { _, err := bob.Create(ctx, deploy); return err }, true},
		{"bob scales deployments", func() error { _, err := bob.Scale(ctx, api.KindDeployment, "team", "d"); return err }, true},
		{"bob cannot read pods", func() error { _, err := bob.Get(ctx, api.KindPod, "team", "p"); return err }, false},
		{"no credentials", func() error { _, err := nobody.Get(ctx, api.KindPod, "team", "p"); return err }, false},
		{"bad token", func() error { _, err := liar.Get(ctx, api.KindPod, "team", "p"); return err }, false},
		{"admin lists everything", func() error { _, err := admin.List(ctx, api.KindPod, store.ListOptions{}); return err }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if tt.allow && err != nil {
				t.Fatalf("denied: %v", err)
			}
			if !tt.allow && !errors.Is(err, store.ErrForbidden) {
				t.Fatalf("error = %v, want ErrForbidden", err)
			}
		})
	}
	// The denied txn wrote nothing.
	if _, err := e.mem.Get(ctx, api.KindPod, "team", "sneak"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("denied txn wrote: %v", err)
	}
	// Roles are read live: removing the binding revokes access at once.
	if _, err := admin.Delete(ctx, api.KindRoleBinding, "team", "alice-reads", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Get(ctx, api.KindPod, "team", "p"); !errors.Is(err, store.ErrForbidden) {
		t.Fatalf("after unbinding: %v, want ErrForbidden", err)
	}
}

func TestUnauthenticatedStatus(t *testing.T) {
	e := newSecureEnv(t)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: e.pki.pool, MinVersion: tls.VersionTLS12}}}
	for _, tc := range []struct {
		auth string
		code int
	}{{"", 401}, {"Bearer nope", 401}, {"Basic YTpi", 401}, {"Bearer alice-token", 404}, {"Bearer admin-token", 404}} {
		req, _ := http.NewRequest("GET", e.url+"/api/v1/namespaces/team/pods/missing", nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		if tc.auth == "Bearer alice-token" {
			tc.code = 403
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.code {
			t.Errorf("Authorization %q: status %d, want %d", tc.auth, resp.StatusCode, tc.code)
		}
	}
	for _, probe := range []string{"/healthz", "/readyz"} {
		resp, err := hc.Get(e.url + probe)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s without credentials: %d, want 200", probe, resp.StatusCode)
		}
	}
	// Plain HTTP to a TLS server fails, and so does a client that does not
	// trust the server's CA.
	plain, _ := remote.NewClient(remote.ClientConfig{Servers: []string{"http" + e.url[len("https"):]}, Token: "admin-token", Timeout: 2 * time.Second})
	if _, err := plain.Get(context.Background(), api.KindPod, "team", "p"); err == nil {
		t.Fatal("plain HTTP to a TLS server succeeded")
	}
	untrusting, _ := remote.NewClient(remote.ClientConfig{Servers: []string{e.url}, Token: "admin-token", Timeout: 2 * time.Second})
	if _, err := untrusting.Get(context.Background(), api.KindPod, "team", "p"); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("untrusted server: %v, want ErrUnavailable", err)
	}
}

func TestParseTokens(t *testing.T) {
	for _, bad := range []string{"justatoken\n", ",user\n", "t,\n", "t,a\nt,b\n"} {
		if _, err := remote.ParseTokens([]byte(bad)); err == nil {
			t.Errorf("ParseTokens(%q) succeeded", bad)
		}
	}
	ta, err := remote.ParseTokens([]byte("\n# comment\n t1 , alice , g1, g2 \n"))
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Authorization", "Bearer t1")
	u, err := ta.Authenticate(req)
	if err != nil || u.Name != "alice" || len(u.Groups) != 2 || u.Groups[1] != "g2" {
		t.Fatalf("Authenticate = %+v, %v", u, err)
	}
}

// TestStartTLS serves with Start over TLS (HTTP/2) and runs a watch and
// writes through it.
func TestStartTLS(t *testing.T) {
	pki := newPKI(t)
	mem := memstore.New()
	t.Cleanup(func() { _ = mem.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := remote.NewServer(remote.ServerConfig{Store: mem, TLS: &tls.Config{Certificates: []tls.Certificate{pki.server}, MinVersion: tls.VersionTLS12}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve = %v", err)
		}
	})
	c, err := remote.NewClient(remote.ClientConfig{Servers: []string{"https://" + ln.Addr().String()}, TLS: &tls.Config{RootCAs: pki.pool, MinVersion: tls.VersionTLS12}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	w, err := c.Watch(ctx, api.KindPod, store.WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if _, err := c.Create(ctx, testPod("ns", "p")); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, w); ev.Object.GetMetadata().GetName() != "p" {
		t.Fatalf("event for %s", ev.Object.GetMetadata().GetName())
	}
}

func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func keyPEM(t *testing.T, dir, name string, c tls.Certificate) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	return writePEM(t, dir, name, "PRIVATE KEY", der)
}

// TestTLSFromFiles serves with certificates read from PEM files and
// authenticates a client by its certificate; a group binding for
// system:authenticated applies to it.
func TestTLSFromFiles(t *testing.T) {
	pki := newPKI(t)
	dir := t.TempDir()
	caFile := writePEM(t, dir, "ca.pem", "CERTIFICATE", pki.caCert.Raw)
	srvCert := writePEM(t, dir, "server.pem", "CERTIFICATE", pki.server.Certificate[0])
	srvKey := keyPEM(t, dir, "server-key.pem", pki.server)
	carol := pki.issue(t, pkix.Name{CommonName: "carol", Organization: []string{"qa"}}, x509.ExtKeyUsageClientAuth, nil)
	carolCert := writePEM(t, dir, "carol.pem", "CERTIFICATE", carol.Certificate[0])
	carolKey := keyPEM(t, dir, "carol-key.pem", carol)

	serverTLS, err := remote.ServerTLS(srvCert, srvKey, caFile)
	if err != nil {
		t.Fatal(err)
	}
	clientTLS, err := remote.ClientTLS(caFile, carolCert, carolKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][3]string{{"", carolCert, ""}, {filepath.Join(dir, "missing.pem"), "", ""}, {srvKey, "", ""}} {
		if _, err := remote.ClientTLS(bad[0], bad[1], bad[2]); err == nil {
			t.Errorf("ClientTLS(%q, %q, %q) succeeded", bad[0], bad[1], bad[2])
		}
	}
	if _, err := remote.ServerTLS(srvCert, carolKey, ""); err == nil {
		t.Error("ServerTLS with a mismatched key succeeded")
	}

	mem := memstore.New()
	t.Cleanup(func() { _ = mem.Close() })
	ctx := context.Background()
	for _, obj := range []api.Object{
		&api.Namespace{Metadata: &api.ObjectMeta{Name: "team"}},
		&api.ClusterRole{Metadata: &api.ObjectMeta{Name: "see-namespaces"}, Rules: []*api.PolicyRule{{Verbs: []string{"get"}, ApiGroups: []string{""}, Resources: []string{"namespaces"}}}},
		&api.ClusterRoleBinding{Metadata: &api.ObjectMeta{Name: "everyone-sees-namespaces"},
			Subjects: []*api.Subject{{Kind: "Group", Name: remote.GroupAuthenticated}},
			RoleRef:  &api.RoleRef{Kind: "ClusterRole", Name: "see-namespaces"}},
	} {
		if _, err := mem.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := remote.NewServer(remote.ServerConfig{Store: mem, TLS: serverTLS, Authenticator: remote.ClientCertAuthenticator(), Authorizer: remote.NewRBACAuthorizer(mem)})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	c, err := remote.NewClient(remote.ClientConfig{Servers: []string{"https://" + ln.Addr().String()}, TLS: clientTLS})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if _, err := c.Get(ctx, api.KindNamespace, "", "team"); err != nil {
		t.Fatalf("carol gets a namespace: %v", err)
	}
	_, err = c.List(ctx, api.KindNamespace, store.ListOptions{})
	var se *remote.StatusError
	if !errors.As(err, &se) || se.Status.GetCode() != 403 || se.Status.GetDetails().GetKind() != "namespaces" {
		t.Fatalf("carol lists namespaces: %v, want 403 naming namespaces", err)
	}
}
