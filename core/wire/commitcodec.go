package wire

// The binary encoding of COMMIT requests (docs/protocol.md, "Binary
// entries"). A commit carries the new version's whole meta; in JSON a
// segment took about 500 bytes and the 4 MiB frame cap stopped commits of
// files over 33 GiB. As a record (AppendMetaFields) it takes about 190, so
// a file of core.MaxFileSize commits in 12.5 MB (MaxMetaFrame).
//
// Like the records, the encoding is canonical: DecodeCommitReq accepts
// exactly what AppendCommitReq produces.

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"dfs/core"
)

// Commit request flag bits.
const (
	commitSync = 1 << 0
	commitNew  = 1 << 1
)

// AppendCommitReq appends the binary body of a COMMIT request: a flags
// byte (bit 0 sync, bit 1 new), the path (uvarint length, bytes), the
// upload id (a string as in records), the need list (uvarint count, then
// each entry as a uvarint gap: the entry minus the previous one plus one;
// the first, itself), then req.Meta's fields (AppendMetaFields; Meta.Path
// is not sent). Need is a set: it is sent sorted, each entry once, and
// must not hold a negative entry; an empty Need is sent as a count of 0
// and decodes as nil.
func AppendCommitReq(b []byte, req *CommitReq) []byte {
	var flags byte
	if req.Sync {
		flags |= commitSync
	}
	if req.New {
		flags |= commitNew
	}
	b = append(b, flags)
	b = binary.AppendUvarint(b, uint64(len(req.Path)))
	b = append(b, req.Path...)
	b = appendString(b, req.Upload)
	need := req.Need
	if !slices.IsSorted(need) || len(slices.Compact(slices.Clone(need))) < len(need) {
		need = slices.Compact(slices.Sorted(slices.Values(need)))
	}
	b = binary.AppendUvarint(b, uint64(len(need)))
	next := 0 // the lowest value the next entry may have
	for _, n := range need {
		if n < next {
			panic(fmt.Sprintf("BUG: AppendCommitReq: need lists %d", n))
		}
		b = binary.AppendUvarint(b, uint64(n-next))
		next = n + 1
	}
	return AppendMetaFields(b, &req.Meta)
}

// maxNeed is the most entries a need list can have: every chunk of the
// largest file. A longer one is refused before anything is allocated.
const maxNeed = core.NumChunks * maxSegments

// DecodeCommitReq decodes a COMMIT request body (see AppendCommitReq);
// nothing may follow the meta. The result does not alias body.
func DecodeCommitReq(body []byte) (CommitReq, error) {
	r := recordReader{b: body}
	var req CommitReq
	flags := r.u8("commit flags")
	if r.err == nil && flags&^(commitSync|commitNew) != 0 {
		r.fail("commit flags", fmt.Errorf("unknown bits in %#x", flags))
	}
	req.Sync, req.New = flags&commitSync != 0, flags&commitNew != 0
	req.Path = string(r.bytes("path", maxRecordString))
	r.text = r.text[:0]
	r.str("upload")
	req.Upload = string(r.text)
	n := r.uvarint("need count")
	if r.err == nil && n > uint64(len(r.b)) {
		r.fail("need count", fmt.Errorf("%d entries cannot fit in %d bytes", n, len(r.b)))
	}
	if r.err == nil && n > maxNeed {
		r.fail("need count", fmt.Errorf("%d entries, more than the %d chunks of the largest file", n, maxNeed))
	}
	if r.err == nil && n > 0 {
		req.Need = make([]int, n)
	}
	next := uint64(0)
	for i := range req.Need {
		gap := r.uvarint("need")
		if r.err == nil && (next > math.MaxInt32 || gap > math.MaxInt32-next) {
			r.fail("need", fmt.Errorf("entry %d past %d", i, math.MaxInt32))
		}
		if r.err != nil {
			break
		}
		req.Need[i] = int(next + gap)
		next += gap + 1
	}
	r.record(&req.Meta, false)
	if r.err == nil && len(r.b) > 0 {
		r.err = fmt.Errorf("%d trailing bytes after the meta", len(r.b))
	}
	if r.err != nil {
		return CommitReq{}, fmt.Errorf("%w: commit: %w", ErrBadRecord, r.err)
	}
	return req, nil
}
