package wire

// The binary encoding of metas in LIST and LOOKUP replies (docs/protocol.md,
// "Binary entries"). JSON spent 5-7 µs decoding one meta, too slow for
// listing a large folder from four nodes; a record decodes in under 1 µs and
// takes 40% of the bytes, mostly because hex ids and hashes travel as raw
// bytes (BenchmarkListCodec).
//
// The encoding is canonical: a decoder accepts exactly what the encoder
// produces (minimal varints, the one right string tag, no stray flag bits), so
// every value has one encoding and the fuzz target can check byte equality.

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
)

// ErrBadRecord is wrapped by every error that decodes a meta record or a
// LIST or LOOKUP reply body.
var ErrBadRecord = errors.New("wire: bad meta record")

// maxRecordString caps every decoded string (path, id, hash), so a few bytes
// of input never make the decoder allocate much.
const maxRecordString = 64 << 10

// minRecord is the size of the smallest record: empty path, flags, three
// empty strings, size, mode, mtime, uid, gid, atime, ctime, an empty target,
// an empty seal and a segment count of 0. A count of records is refused if
// the rest of the body could not hold them.
const minRecord = 1 + 1 + 3 + 3 + 5 + 1 + 1

// maxSegments is the most segments a meta lists: those of a file of
// core.MaxFileSize. A count over it is refused before anything is
// allocated (a frame of tiny segments would otherwise make the decoder
// allocate many times its size).
const maxSegments = 1 << 16

// minSegment is the size of the smallest segment: index, empty id, size,
// empty md5, four chunks of size 0 with an empty hash. A segment count is
// refused if the rest of the body could not hold them.
const minSegment = 1 + 1 + 1 + 1 + 4*2

// guessRecord is the smallest record size DecodeListResp assumes when it
// sizes the entries from the first one: a Meta takes about 300 bytes of
// memory, a file's record about 250 bytes of body.
const guessRecord = 128

// Record flag bits.
const (
	recDir     = 1 << 0
	recDeleted = 1 << 1
	recHeld    = 1 << 2 // a Held mask byte ends the record
)

// Tags of a hex-or-literal string.
const (
	strEmpty   = 0 // nothing follows
	strHex     = 1 // uvarint n, n bytes: the string is their lowercase hex
	strLiteral = 2 // uvarint n, n bytes: the string itself, never empty or lowercase hex
)

// List reply flag bits.
const listDone = 1 << 0

// Decode failures below ErrBadRecord.
var (
	errVarintOverflow = errors.New("varint overflows 64 bits")
	errVarintLong     = errors.New("varint not in its shortest form")
	errEmptyString    = errors.New("empty string with a non-empty tag")
	errHexLiteral     = errors.New("lowercase hex sent as a literal")
)

// AppendMetaFields appends the binary encoding of m's fields, all but
// Path: what a node can keep pre-encoded and glue behind a path with
// AppendRecord. Held masks beyond chunk 3 lose their high bits, and a Held
// of another length than Segments is cut or padded with zeros to it.
// Segments must be sorted by Index (CheckSegments). Strings longer than 64
// KiB, and a Seal longer than MaxSeal, are encoded but refused by the
// decoder; no node holds one (paths are at most 4 KiB, and nodes refuse
// longer seals).
func AppendMetaFields(b []byte, m *Meta) []byte {
	var flags byte
	if m.Dir {
		flags |= recDir
	}
	if m.Deleted {
		flags |= recDeleted
	}
	if m.Held != nil {
		flags |= recHeld
	}
	b = append(b, flags)
	b = appendString(b, m.Stamp)
	b = appendString(b, m.Born)
	b = appendString(b, m.Version)
	b = binary.AppendVarint(b, m.Size)
	b = binary.AppendUvarint(b, uint64(m.Mode))
	b = binary.AppendVarint(b, m.MTime)
	b = binary.AppendUvarint(b, uint64(m.UID))
	b = binary.AppendUvarint(b, uint64(m.GID))
	b = binary.AppendVarint(b, m.ATime)
	b = binary.AppendVarint(b, m.CTime)
	b = appendString(b, m.Target)
	b = appendString(b, m.Seal)
	b = binary.AppendUvarint(b, uint64(len(m.Segments)))
	next := int64(0) // the lowest index the next segment may have
	for i := range m.Segments {
		s := &m.Segments[i]
		b = binary.AppendUvarint(b, uint64(s.Index-next))
		next = s.Index + 1
		b = appendString(b, s.ID)
		b = binary.AppendVarint(b, s.Size)
		b = appendString(b, s.MD5)
		for c := range s.Chunks {
			b = binary.AppendVarint(b, s.Chunks[c].Size)
			b = appendString(b, s.Chunks[c].SHA256)
		}
	}
	if m.Held != nil {
		for i := range m.Segments {
			var mask byte
			if i < len(m.Held) {
				mask = m.Held[i] & 0xf
			}
			b = append(b, mask)
		}
	}
	return b
}

// AppendRecord appends one record: path, then fields pre-encoded by
// AppendMetaFields.
func AppendRecord(b []byte, path string, fields []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(path)))
	b = append(b, path...)
	return append(b, fields...)
}

// AppendMeta appends m as one record (m.Path, then its fields).
func AppendMeta(b []byte, m *Meta) []byte {
	b = binary.AppendUvarint(b, uint64(len(m.Path)))
	b = append(b, m.Path...)
	return AppendMetaFields(b, m)
}

// DecodeMeta decodes one record from the front of b and returns the rest.
// The meta does not alias b.
func DecodeMeta(b []byte) (Meta, []byte, error) {
	r := recordReader{b: b}
	var m Meta
	r.record(&m, true)
	if r.err != nil {
		return Meta{}, nil, fmt.Errorf("%w: %w", ErrBadRecord, r.err)
	}
	return m, r.b, nil
}

// DecodeMetaFields decodes fields only (no path, as AppendMetaFields wrote
// them) from the front of b and returns the rest.
func DecodeMetaFields(b []byte) (Meta, []byte, error) {
	r := recordReader{b: b}
	var m Meta
	r.record(&m, false)
	if r.err != nil {
		return Meta{}, nil, fmt.Errorf("%w: %w", ErrBadRecord, r.err)
	}
	return m, r.b, nil
}

// AppendListHead appends the start of a LIST reply body: a flags byte (bit 0:
// done), the uvarint count of chain records and the chain records. The
// entries follow as records (AppendMeta, AppendRecord) up to the end of the
// body; they have no count, so a node appends them as it goes.
func AppendListHead(b []byte, done bool, chain []Meta) []byte {
	var flags byte
	if done {
		flags |= listDone
	}
	b = append(b, flags)
	b = binary.AppendUvarint(b, uint64(len(chain)))
	for i := range chain {
		b = AppendMeta(b, &chain[i])
	}
	return b
}

// DecodeListResp decodes a LIST reply body (see AppendListHead). Empty Chain
// and Entries decode as nil. The result does not alias body.
func DecodeListResp(body []byte) (ListResp, error) {
	r := recordReader{b: body}
	var resp ListResp
	flags := r.u8("list flags")
	if r.err == nil && flags&^listDone != 0 {
		r.fail("list flags", fmt.Errorf("unknown bits in %#x", flags))
	}
	resp.Done = flags&listDone != 0
	resp.Chain = r.records("chain")
	for r.err == nil && len(r.b) > 0 {
		left := len(r.b)
		resp.Entries = append(resp.Entries, Meta{})
		r.record(&resp.Entries[len(resp.Entries)-1], true)
		if r.err != nil {
			r.err = fmt.Errorf("entry %d: %w", len(resp.Entries)-1, r.err)
			break
		}
		if len(resp.Entries) == 1 {
			// Entries have no count: guess it from the first one's size
			// rather than grow the slice ten times. The guess assumes
			// records of at least guessRecord bytes, so a small first
			// record cannot make a small body allocate a lot.
			size := max(left-len(r.b), guessRecord)
			resp.Entries = append(make([]Meta, 0, 2+len(r.b)/size), resp.Entries[0])
		}
	}
	if r.err != nil {
		return ListResp{}, fmt.Errorf("%w: %w", ErrBadRecord, r.err)
	}
	return resp, nil
}

// AppendLookupResp appends a LOOKUP reply body: the uvarint count of chain
// records, then the records.
func AppendLookupResp(b []byte, chain []Meta) []byte {
	b = binary.AppendUvarint(b, uint64(len(chain)))
	for i := range chain {
		b = AppendMeta(b, &chain[i])
	}
	return b
}

// DecodeLookupResp decodes a LOOKUP reply body (see AppendLookupResp);
// nothing may follow the last record. An empty Chain decodes as nil. The
// result does not alias body.
func DecodeLookupResp(body []byte) (LookupResp, error) {
	r := recordReader{b: body}
	chain := r.records("chain")
	if r.err == nil && len(r.b) > 0 {
		r.err = fmt.Errorf("%d trailing bytes after the last record", len(r.b))
	}
	if r.err != nil {
		return LookupResp{}, fmt.Errorf("%w: %w", ErrBadRecord, r.err)
	}
	return LookupResp{Chain: chain}, nil
}

// appendString appends s as a hex-or-literal string.
func appendString(b []byte, s string) []byte {
	switch {
	case s == "":
		return append(b, strEmpty)
	case isLowerHex(s):
		b = append(b, strHex)
		b = binary.AppendUvarint(b, uint64(len(s)/2))
		for i := 0; i < len(s); i += 2 {
			b = append(b, hexNibble[s[i]]<<4|hexNibble[s[i+1]])
		}
		return b
	default:
		b = append(b, strLiteral)
		b = binary.AppendUvarint(b, uint64(len(s)))
		return append(b, s...)
	}
}

// isLowerHex reports whether s is non-empty lowercase hex of even length:
// the strings sent as raw bytes.
func isLowerHex[T string | []byte](s T) bool {
	if len(s) == 0 || len(s)%2 != 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if hexNibble[s[i]] > 0xf {
			return false
		}
	}
	return true
}

// hexNibble maps '0'-'9' and 'a'-'f' to their value, every other byte to 0xff.
var hexNibble = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i, c := range "0123456789abcdef" {
		t[c] = byte(i)
	}
	return t
}()

// recordReader decodes records from b. The first failure sticks in err;
// after it every read returns zero values, so a decoder checks err once.
type recordReader struct {
	b    []byte // the input not read yet
	err  error  // the first failure, without the ErrBadRecord prefix
	text []byte // the strings of the record being decoded, back to back
	ends []int  // where each string of the record ends in text
}

// fail records the first failure, naming the field it happened in.
func (r *recordReader) fail(field string, err error) {
	if r.err == nil {
		r.err = fmt.Errorf("%s: %w", field, err)
	}
}

// u8 reads one byte.
func (r *recordReader) u8(field string) byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) == 0 {
		r.fail(field, io.ErrUnexpectedEOF)
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// uvarint reads a uvarint in its shortest form.
func (r *recordReader) uvarint(field string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	switch {
	case n == 0:
		r.fail(field, io.ErrUnexpectedEOF)
	case n < 0:
		r.fail(field, errVarintOverflow)
	case n > 1 && r.b[n-1] == 0:
		r.fail(field, errVarintLong)
	default:
		r.b = r.b[n:]
		return v
	}
	return 0
}

// u32 reads a uvarint that must fit 32 bits.
func (r *recordReader) u32(field string) uint32 {
	v := r.uvarint(field)
	if v > math.MaxUint32 {
		r.fail(field, fmt.Errorf("%d does not fit 32 bits", v))
		return 0
	}
	return uint32(v)
}

// varint reads a zigzag varint, as binary.AppendVarint writes it.
func (r *recordReader) varint(field string) int64 {
	u := r.uvarint(field)
	return int64(u>>1) ^ -int64(u&1)
}

// bytes reads a uvarint length n and n bytes, refusing n over max or over
// what is left of the input before taking anything.
func (r *recordReader) bytes(field string, max int) []byte {
	n := r.uvarint(field)
	switch {
	case r.err != nil:
		return nil
	case n > uint64(max):
		r.fail(field, fmt.Errorf("length %d over the limit of %d", n, max))
	case n > uint64(len(r.b)):
		r.fail(field, fmt.Errorf("length %d beyond the %d bytes left: %w", n, len(r.b), io.ErrUnexpectedEOF))
	default:
		p := r.b[:n]
		r.b = r.b[n:]
		return p
	}
	return nil
}

// str reads a hex-or-literal string and appends it to r.text.
func (r *recordReader) str(field string) {
	switch tag := r.u8(field); {
	case r.err != nil || tag == strEmpty:
	case tag == strHex:
		p := r.bytes(field, maxRecordString/2)
		if r.err == nil && len(p) == 0 {
			r.fail(field, errEmptyString)
		}
		r.text = hex.AppendEncode(r.text, p)
	case tag == strLiteral:
		p := r.bytes(field, maxRecordString)
		if r.err == nil && len(p) == 0 {
			r.fail(field, errEmptyString)
		}
		if isLowerHex(p) {
			r.fail(field, errHexLiteral)
		}
		r.text = append(r.text, p...)
	default:
		r.fail(field, fmt.Errorf("unknown string tag %d", tag))
	}
}

// record decodes one record, with its path or fields only, into m, which
// must be zero. After a failure m holds junk: callers drop it.
func (r *recordReader) record(m *Meta, withPath bool) {
	// Every string of the record goes into r.text and becomes one
	// allocation; r.ends[i] is where string i ends (path, stamp, born,
	// version, target, seal, then each segment's id, md5 and four hashes).
	r.text, r.ends = r.text[:0], r.ends[:0]
	if withPath {
		r.text = append(r.text, r.bytes("path", maxRecordString)...)
	}
	r.ends = append(r.ends, len(r.text))
	flags := r.u8("flags")
	if r.err == nil && flags&^(recDir|recDeleted|recHeld) != 0 {
		r.fail("flags", fmt.Errorf("unknown bits in %#x", flags))
	}
	for _, field := range [...]string{"stamp", "born", "version"} {
		r.str(field)
		r.ends = append(r.ends, len(r.text))
	}
	m.Size = r.varint("size")
	m.Mode = r.u32("mode")
	m.MTime = r.varint("mtime")
	m.UID = r.u32("uid")
	m.GID = r.u32("gid")
	m.ATime = r.varint("atime")
	m.CTime = r.varint("ctime")
	r.str("target")
	r.ends = append(r.ends, len(r.text))
	r.str("seal")
	r.ends = append(r.ends, len(r.text))
	if seal := r.ends[5] - r.ends[4]; r.err == nil && seal > MaxSeal {
		r.fail("seal", fmt.Errorf("%d bytes, more than %d", seal, MaxSeal))
	}
	n := r.uvarint("segment count")
	if r.err == nil && n > uint64(len(r.b)/minSegment) {
		r.fail("segment count", fmt.Errorf("%d segments cannot fit in %d bytes", n, len(r.b)))
	}
	if r.err == nil && n > maxSegments {
		r.fail("segment count", fmt.Errorf("%d segments, more than the %d of the largest file", n, maxSegments))
	}
	if r.err == nil && n > 0 {
		m.Segments = make([]Segment, n)
		// A big file's strings (6 per segment, 312 hex digits) would
		// otherwise grow text and ends a dozen times: 12 times the
		// body in garbage for a meta of 65,536 segments. Hex doubles
		// at most, so the rest of the input bounds what text needs.
		r.ends = slices.Grow(r.ends, 6*int(n))
		r.text = slices.Grow(r.text, min(int(n)*312, 2*len(r.b)))
	}
	next := uint64(0)
	for i := range m.Segments {
		s := &m.Segments[i]
		idx := r.uvarint("segment index")
		if r.err == nil && (next > math.MaxInt64 || idx > math.MaxInt64-next) {
			r.fail("segment index", errVarintOverflow)
		}
		s.Index = int64(next + idx)
		next = uint64(s.Index) + 1
		r.str("segment id")
		r.ends = append(r.ends, len(r.text))
		s.Size = r.varint("segment size")
		r.str("segment md5")
		r.ends = append(r.ends, len(r.text))
		for c := range s.Chunks {
			s.Chunks[c].Size = r.varint("chunk size")
			r.str("chunk sha256")
			r.ends = append(r.ends, len(r.text))
		}
		if r.err != nil {
			return
		}
	}
	if flags&recHeld != 0 {
		m.Held = make([]uint8, 0, len(m.Segments)) // non-nil: present
		for range m.Segments {
			mask := r.u8("held")
			if r.err == nil && mask > 0xf {
				r.fail("held", fmt.Errorf("chunk mask %#x beyond chunk 3", mask))
			}
			m.Held = append(m.Held, mask)
		}
	}
	if r.err != nil {
		return
	}
	m.Dir, m.Deleted = flags&recDir != 0, flags&recDeleted != 0
	t, e := string(r.text), r.ends
	m.Path = t[:e[0]]
	m.Stamp, m.Born, m.Version, m.Target, m.Seal = t[e[0]:e[1]], t[e[1]:e[2]], t[e[2]:e[3]], t[e[3]:e[4]], t[e[4]:e[5]]
	e = e[5:]
	for i := range m.Segments {
		s := &m.Segments[i]
		s.ID, s.MD5 = t[e[0]:e[1]], t[e[1]:e[2]]
		for c := range s.Chunks {
			s.Chunks[c].SHA256 = t[e[2+c]:e[3+c]]
		}
		e = e[6:]
	}
}

// records reads a uvarint count and that many records.
func (r *recordReader) records(what string) []Meta {
	n := r.uvarint(what + " count")
	if r.err != nil || n == 0 {
		return nil
	}
	if n > uint64(len(r.b)/minRecord) {
		r.fail(what+" count", fmt.Errorf("%d records cannot fit in %d bytes", n, len(r.b)))
		return nil
	}
	ms := make([]Meta, n)
	for i := range ms {
		r.record(&ms[i], true)
		if r.err != nil {
			r.err = fmt.Errorf("%s record %d: %w", what, i, r.err)
			return nil
		}
	}
	return ms
}
