package transport_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"time"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/examples/binlog"
	"github.com/semisync-go/semisync/replica"
	"github.com/semisync-go/semisync/source"
	"github.com/semisync-go/semisync/transport"
	"github.com/semisync-go/semisync/vars"
)

// Mutual TLS: the source and its replicas hold certificates from one
// authority. The source requires a replica's certificate, and its
// Authenticate hook ties the certificate's CommonName to the replica's ID,
// so that a replica cannot pose as another.
func ExampleServer_mutualTLS() {
	// A throwaway authority with certificates for the source and for
	// replica 2; a deployment loads its own from files.
	ca, caKey := certificate(nil, nil, "example CA")
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	sourceCert, sourceKey := certificate(ca, caKey, "source.example")
	replicaCert, replicaKey := certificate(ca, caKey, "replica-2")

	reg, _ := vars.NewRegistry(semisync.FlavorMySQL)
	_ = reg.Exec("SET GLOBAL rpl_semi_sync_source_enabled = ON")
	src, _ := source.New(source.Options{Vars: reg})
	defer src.Close()
	bl := binlog.NewMemory("binlog")
	srv, _ := transport.NewServer(src, bl, transport.ServerOptions{
		TLSConfig: &tls.Config{
			Certificates: []tls.Certificate{{Certificate: [][]byte{sourceCert.Raw}, PrivateKey: sourceKey}},
			ClientCAs:    pool,
			ClientAuth:   tls.RequireAndVerifyClientCert,
			MinVersion:   tls.VersionTLS13,
		},
		Authenticate: func(_ context.Context, p transport.Peer) error {
			if p.TLS == nil || len(p.TLS.VerifiedChains) == 0 {
				return fmt.Errorf("no verified certificate")
			}
			if cn := p.TLS.VerifiedChains[0][0].Subject.CommonName; cn != fmt.Sprintf("replica-%d", p.ID) {
				return transport.Disclose(fmt.Errorf("the certificate of %s is not replica %d's", cn, p.ID))
			}
			return nil
		},
	})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(ln)
	defer srv.Close()

	// The replica's side: its certificate, and the authority that signed
	// the source's.
	replicaTLS := &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{replicaCert.Raw}, PrivateKey: replicaKey}},
		RootCAs:      pool,
		ServerName:   "source.example",
		MinVersion:   tls.VersionTLS13,
	}
	rreg, _ := vars.NewRegistry(semisync.FlavorMySQL)
	_ = rreg.Exec("SET GLOBAL rpl_semi_sync_replica_enabled = ON")
	rep, _ := replica.New(replica.Options{Vars: rreg})
	relay := &binlog.Relay{}

	// Replica 2's certificate does not make a replica 3.
	conn, _ := net.Dial("tcp", ln.Addr().String())
	_, err := transport.Replicate(context.Background(), conn, transport.ReplicaConfig{
		Replica: rep, ID: 3, RelayLog: relay, TLSConfig: replicaTLS})
	fmt.Println("as replica 3:", err)

	conn, _ = net.Dial("tcp", ln.Addr().String())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := transport.Replicate(ctx, conn, transport.ReplicaConfig{
			Replica: rep, ID: 2, Start: relay.Last(), RelayLog: relay, TLSConfig: replicaTLS})
		done <- err
	}()
	end := bl.Append([]byte("INSERT 1"))
	_ = src.Flushed(end)
	bl.Publish()
	res, _ := src.Wait(context.Background(), end)
	fmt.Printf("as replica 2: commit ending at %v %v\n", end, res.Outcome)
	cancel()
	fmt.Println("replica 2 stopped:", <-done)
	// Output:
	// as replica 3: transport: source refused the replica (code 5): the certificate of replica-2 is not replica 3's
	// as replica 2: commit ending at binlog.000001:12 acknowledged
	// replica 2 stopped: context canceled
}

// certificate makes an ECDSA P-256 key and a certificate for name, valid
// for an hour, signed by parent (a self-signed authority when parent is
// nil). The source's certificate is also valid for 127.0.0.1.
func certificate(parent *x509.Certificate, parentKey *ecdsa.PrivateKey, name string) (*x509.Certificate, *ecdsa.PrivateKey) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name},
		DNSNames:     []string{name},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	if parent == nil {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage |= x509.KeyUsageCertSign
		parent, parentKey = tmpl, key
	}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	cert, _ := x509.ParseCertificate(der)
	return cert, key
}
