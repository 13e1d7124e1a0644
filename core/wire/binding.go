package wire

import (
	"crypto/tls"
	"net"
)

// loginExporter is the TLS exporter label of the login binding (RFC 5705,
// RFC 8446 section 7.5).
const loginExporter = "EXPORTER-dfs-login-v1"

// plaintextBinding is the binding of a plaintext connection: the same
// for every one, so a login proof sent in plaintext can be replayed by
// whoever sees it. Plaintext is for debugging only (the insecure option).
var plaintextBinding = []byte("dfs plaintext-insecure")

// LoginBinding returns what a login proof on nc is bound to (AuthReq):
// for TLS, 32 bytes exported from the connection's secrets, which both
// ends compute alike and no other connection shares, so a proof a node
// (or anyone) received logs in nowhere else. The handshake must be done
// (a node has read the AUTH frame, a client's Dial returned). It is nil
// when the exporter fails, which no proof matches.
func LoginBinding(nc net.Conn) []byte {
	t, ok := nc.(interface{ ConnectionState() tls.ConnectionState })
	if !ok {
		return plaintextBinding
	}
	st := t.ConnectionState()
	b, err := st.ExportKeyingMaterial(loginExporter, nil, 32)
	if err != nil {
		return nil
	}
	return b
}
