package daemon

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
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/remote"
)

// selfSigned writes a certificate and key for 127.0.0.1 into dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "coxd"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

type lockedBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestServerTLSTokensRBAC runs a member with HTTPS, bearer tokens and RBAC
// and checks who may do what.
func TestServerTLSTokensRBAC(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	tokens := filepath.Join(dir, "tokens")
	if err := os.WriteFile(tokens, []byte("admintok,admin,system:masters\nviewtok,viewer\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	logs := &lockedBuf{}
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"server", "-data-dir", filepath.Join(dir, "data"), "-api-addr", addr, "-health-addr", "127.0.0.1:0",
			"-tls-cert", certFile, "-tls-key", keyFile, "-token-file", tokens, "-authorization", "rbac", "-log-level", "warn"}, logs, Options{})
	}()
	client := func(token string) store.Store {
		c, err := remote.NewClient(remote.ClientConfig{Servers: []string{"https://" + addr}, Token: token,
			TLS: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	admin := client("admintok")
	cm := &api.ConfigMap{Metadata: &api.ObjectMeta{Name: "c", Namespace: "default"}, Data: map[string]string{"k": "v"}}
	for {
		_, err := admin.Create(ctx, cm)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("admin create: %v\n%s", err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := client("viewtok").Create(ctx, &api.ConfigMap{Metadata: &api.ObjectMeta{Name: "d", Namespace: "default"}}); !errors.Is(err, store.ErrForbidden) {
		t.Errorf("a user with no role created: %v", err)
	}
	if _, err := client("").Get(ctx, api.KindConfigMap, "default", "c"); err == nil || !strings.Contains(strings.ToLower(err.Error()), "unauthorized") {
		t.Errorf("anonymous read: %v", err)
	}
	// The default roles exist, so binding "view" lets the viewer read.
	if _, err := admin.Create(ctx, remote.BindClusterRole("viewer-view", "view", "User", "viewer")); err != nil {
		t.Fatal(err)
	}
	if _, err := client("viewtok").Get(ctx, api.KindConfigMap, "default", "c"); err != nil {
		t.Errorf("viewer read after binding: %v", err)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d\n%s", code, logs.String())
	}
}
