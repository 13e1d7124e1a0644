package wire

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Key and certificate file names in a node's data folder.
const (
	KeyFile  = "node.key"
	CertFile = "node.crt"
)

// LoadOrCreateCert returns the node's TLS certificate from dir, making a new
// ECDSA P-256 key and a self-signed certificate (valid 100 years) there on
// first start. Clients trust it by its pinned fingerprint, not by its name.
func LoadOrCreateCert(dir string) (tls.Certificate, error) {
	kp, cp := filepath.Join(dir, KeyFile), filepath.Join(dir, CertFile)
	if cert, err := tls.LoadX509KeyPair(cp, kp); err == nil {
		return cert, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return tls.Certificate{}, fmt.Errorf("load node key: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "dfsnode"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(100, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"dfsnode"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return tls.Certificate{}, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return tls.Certificate{}, err
	}
	if err := writeNew(kp, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		return tls.Certificate{}, err
	}
	if err := writeNew(cp, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return tls.Certificate{}, err
	}
	return tls.LoadX509KeyPair(cp, kp)
}

func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Fingerprint is "sha256:" and the hex SHA-256 of a certificate's public key
// (SubjectPublicKeyInfo), so a renewed certificate for the same key keeps it.
func Fingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// CertFingerprint returns the fingerprint of a loaded certificate.
func CertFingerprint(c tls.Certificate) (string, error) {
	if len(c.Certificate) == 0 {
		return "", errors.New("empty certificate")
	}
	x, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		return "", err
	}
	return Fingerprint(x), nil
}

// ServerTLS is the node's TLS configuration: TLS 1.3 only.
func ServerTLS(cert tls.Certificate) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13}
}

// PinError reports a node whose key does not match the pinned fingerprint.
type PinError struct {
	Name, Addr string
	Got, Want  string
}

func (e *PinError) Error() string {
	return fmt.Sprintf("node %s at %s presented key %s but dfc.conf pins %s: refusing to log in to it. "+
		"If that node was reinstalled, compare with `dfsnode fingerprint DATA_DIR` run on it and run `dfc pin %s`; "+
		"otherwise someone may be intercepting the connection", e.Name, e.Addr, e.Got, e.Want, e.Name)
}

// ClientTLS verifies a node by its pinned fingerprint. With pin "" any key
// is accepted: the caller decides about it after the handshake and before
// sending anything (PeerFingerprint; trust on first use, as ssh's
// known_hosts).
func ClientTLS(name, addr, pin string) *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS13,
		InsecureSkipVerify: true, // verified below, by pin instead of by CA
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 {
				return errors.New("node sent no certificate")
			}
			x, err := x509.ParseCertificate(raw[0])
			if err != nil {
				return fmt.Errorf("node certificate: %w", err)
			}
			if fp := Fingerprint(x); pin != "" && !strings.EqualFold(fp, pin) {
				return &PinError{Name: name, Addr: addr, Got: fp, Want: pin}
			}
			return nil
		},
	}
}

// PeerFingerprint returns the fingerprint of the key a node presented on a
// connection made by Dial with TLS; ok is false for a plaintext one.
func PeerFingerprint(nc net.Conn) (fp string, ok bool) {
	t, isTLS := nc.(*tlsConn)
	if !isTLS {
		return "", false
	}
	certs := t.ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return "", false
	}
	return Fingerprint(certs[0]), true
}
