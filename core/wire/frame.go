package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ProtocolVersion is the first byte of every frame header. Version 2 added
// group commit (Sync flags and the SYNC request), chunk hashes returned by
// the node, and binary entry lists (LIST and LOOKUP replies). Version 3
// stores files as segments (metas list them, PUT_CHUNK and GET_CHUNK name
// one) and sends COMMIT requests in binary: a peer of version 2 is refused
// at its first frame rather than misread. Version 4 logs in with a proof
// of the password bound to the connection (AuthReq) and keeps the user's
// wrapped master key on the nodes (KEY_GET, KEY_PUT, PASSWD).
const ProtocolVersion = 4

// HeaderSize is the size of a frame header in bytes.
const HeaderSize = 8

// Frame size caps. A reader refuses a header declaring more than its cap
// before reading (or allocating for) the body. The frames that carry a
// whole meta get caps of their own, sized for a file of core.MaxFileSize
// (65,536 segments, about 190 bytes each: 12.5 MB); every other frame
// keeps MaxControlFrame, so that a node allocates that much only where a
// meta needs it (see Caps).
const (
	MaxPreAuthFrame = 16 << 10 // any frame before authentication
	MaxControlFrame = 4 << 20  // every other control frame (JSON messages)
	MaxMetaFrame    = 16 << 20 // a COMMIT request, read by a node: one meta
	MaxListFrame    = 24 << 20 // a LIST or LOOKUP reply, read by a client: a meta and its folders' (up to 4.3 MB more)
	MaxDataFrame    = 1 << 20  // one piece of a data stream
)

// Caps gives a reader's cap on a control frame by the frame's type.
type Caps func(Type) uint32

// PreAuthCaps are a node's caps before the peer logged in, and a
// client's before its login succeeded.
func PreAuthCaps(Type) uint32 { return MaxPreAuthFrame }

// NodeCaps are a node's caps on the requests of a logged-in client: a
// COMMIT carries the new version's meta; the key requests and PASSWD carry
// a wrapped key or two and a verifier, and get no more than a login.
func NodeCaps(t Type) uint32 {
	switch t {
	case TypeCommit:
		return MaxMetaFrame
	case TypeKeyGet, TypeKeyPut, TypePasswd:
		return MaxPreAuthFrame
	}
	return MaxControlFrame
}

// ClientCaps are a client's caps on a node's replies once logged in: LIST
// batches and LOOKUP chains carry metas whole, with their folders' (a
// node ends a LIST batch past 3 MiB, and puts a larger entry in a batch
// of its own). A COMMIT reply is one byte per segment (base64 in JSON:
// 88 KB at the largest). The replies to the key requests carry one
// wrapped key.
func ClientCaps(t Type) uint32 {
	switch t {
	case TypeList, TypeLookup:
		return MaxListFrame
	case TypeKeyGet, TypeKeyPut, TypePasswd:
		return MaxPreAuthFrame
	}
	return MaxControlFrame
}

// Type is the frame type: the request kind, or Data for stream pieces.
type Type uint8

// Frame types. Values are part of the protocol; never reuse one.
const (
	TypeAuth     Type = 1
	TypePutChunk Type = 2
	TypeCommit   Type = 3
	TypeGetChunk Type = 4
	TypeList     Type = 5
	TypeData     Type = 6
	TypeLookup   Type = 7
	TypeUpdate   Type = 8
	TypeRename   Type = 9
	TypeInfo     Type = 10
	TypePasswd   Type = 11
	TypePurge    Type = 12
	TypeScan     Type = 13
	TypeSync     Type = 14
	TypeDrop     Type = 15
	TypeKeyGet   Type = 16
	TypeKeyPut   Type = 17
)

var typeNames = map[Type]string{
	TypeAuth: "AUTH", TypePutChunk: "PUT_CHUNK", TypeCommit: "COMMIT", TypeGetChunk: "GET_CHUNK",
	TypeList: "LIST", TypeData: "DATA", TypeLookup: "LOOKUP", TypeUpdate: "UPDATE",
	TypeRename: "RENAME", TypeInfo: "INFO", TypePasswd: "PASSWD", TypePurge: "PURGE", TypeScan: "SCAN", TypeSync: "SYNC",
	TypeDrop: "DROP", TypeKeyGet: "KEY_GET", TypeKeyPut: "KEY_PUT",
}

func (t Type) String() string {
	if s, ok := typeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("TYPE(%d)", uint8(t))
}

// Known reports whether t is a frame type of this protocol version.
func (t Type) Known() bool { _, ok := typeNames[t]; return ok }

// Status is the outcome carried by a reply frame; requests carry StatusOK.
type Status uint8

// Status codes. A reply with a status other than OK carries an ErrorMsg.
const (
	StatusOK         Status = 0
	StatusAuthFailed Status = 1
	StatusNotFound   Status = 2
	StatusExist      Status = 3
	StatusBadRequest Status = 4
	StatusNoSpace    Status = 5
	StatusCorrupt    Status = 6
	StatusInternal   Status = 7
	StatusNotEmpty   Status = 8
	StatusBusy       Status = 9
	StatusStale      Status = 10
	StatusNotDir     Status = 11
	StatusIsDir      Status = 12
	StatusIncomplete Status = 13
	StatusQuota      Status = 14 // the upload would take the user past their quota on this node
)

var statusNames = map[Status]string{
	StatusOK: "ok", StatusAuthFailed: "authentication failed", StatusNotFound: "not found",
	StatusExist: "exists", StatusBadRequest: "bad request", StatusNoSpace: "no space left on node",
	StatusCorrupt: "corrupt chunk", StatusInternal: "internal error", StatusNotEmpty: "folder not empty",
	StatusBusy: "node busy", StatusStale: "superseded by a newer version", StatusNotDir: "not a folder",
	StatusIsDir: "is a folder", StatusIncomplete: "chunks missing", StatusQuota: "over quota",
}

func (s Status) String() string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return fmt.Sprintf("status %d", uint8(s))
}

// Header is a decoded frame header.
type Header struct {
	Type   Type
	Status Status
	Len    uint32
}

// Errors from the frame codec.
var (
	ErrVersion  = errors.New("wire: unsupported protocol version")
	ErrTooLarge = errors.New("wire: frame larger than allowed")
	ErrType     = errors.New("wire: unknown frame type")
)

// EncodeHeader writes h into b, which must be at least HeaderSize long.
func EncodeHeader(b []byte, h Header) {
	b[0] = ProtocolVersion
	b[1] = byte(h.Type)
	b[2] = byte(h.Status)
	b[3] = 0
	binary.BigEndian.PutUint32(b[4:8], h.Len)
}

// DecodeHeader parses a frame header and checks it against max, the largest
// body the reader accepts at this point.
func DecodeHeader(b []byte, max uint32) (Header, error) {
	return decodeHeader(b, func(Type) uint32 { return max })
}

// decodeHeader is DecodeHeader with the cap by frame type.
func decodeHeader(b []byte, caps Caps) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, io.ErrUnexpectedEOF
	}
	if b[0] != ProtocolVersion {
		return Header{}, fmt.Errorf("%w: %d", ErrVersion, b[0])
	}
	h := Header{Type: Type(b[1]), Status: Status(b[2]), Len: binary.BigEndian.Uint32(b[4:8])}
	if !h.Type.Known() {
		return h, fmt.Errorf("%w: %d", ErrType, b[1])
	}
	if b[3] != 0 {
		return h, fmt.Errorf("wire: reserved header byte is %d, want 0", b[3])
	}
	if max := caps(h.Type); h.Len > max {
		return h, fmt.Errorf("%w: %s frame of %d bytes (limit %d)", ErrTooLarge, h.Type, h.Len, max)
	}
	return h, nil
}

// ReadFrame reads one whole frame into buf (grown as needed) and returns the
// header and body. The body aliases buf.
func ReadFrame(r io.Reader, max uint32, buf []byte) (Header, []byte, error) {
	return readFrame(r, func(Type) uint32 { return max }, buf)
}

// readFrame is ReadFrame with the cap by frame type.
func readFrame(r io.Reader, caps Caps, buf []byte) (Header, []byte, error) {
	var hb [HeaderSize]byte
	if _, err := io.ReadFull(r, hb[:]); err != nil {
		return Header{}, nil, err
	}
	h, err := decodeHeader(hb[:], caps)
	if err != nil {
		return h, nil, err
	}
	if cap(buf) < int(h.Len) {
		buf = make([]byte, h.Len)
	}
	buf = buf[:h.Len]
	if _, err := io.ReadFull(r, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return h, nil, err
	}
	return h, buf, nil
}

// WriteFrame writes one frame.
func WriteFrame(w io.Writer, t Type, st Status, body []byte) error {
	var hb [HeaderSize]byte
	EncodeHeader(hb[:], Header{Type: t, Status: st, Len: uint32(len(body))})
	if _, err := w.Write(hb[:]); err != nil {
		return err
	}
	if len(body) == 0 {
		return nil
	}
	_, err := w.Write(body)
	return err
}
