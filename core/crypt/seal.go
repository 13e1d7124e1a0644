package crypt

import (
	"crypto/hmac"
	"encoding/base64"
	"encoding/binary"

	"dfs/core/wire"
)

// An entry's seal (wire.Meta.Seal) is an HMAC-SHA256, with the entry key, of
// what the entry says, bound to where it is: its own name (the plaintext
// last component) and the Born of the folder holding it ("" for the top
// folder), so that a node can neither change an entry, nor show it under
// another name, nor move it (or a tombstone) into another folder. A folder
// rename changes the folder's entry only: what is under it keeps its
// parent's Born.
//
// What it covers depends on the kind of entry, leaving out what nodes
// change themselves:
//   - a tombstone: Dir, Deleted, Stamp, Born;
//   - a folder: that, and Mode, UID, GID, ATime (a folder's MTime and CTime
//     move on the nodes as entries come and go inside it, so they are not
//     sealed; a node can change them);
//   - a file, symlink or special entry: that, and Version, Size, MTime,
//     CTime, Target (as stored, encrypted) and every segment's Index, ID,
//     Size, MD5 and chunks' sizes and SHA-256s.
// Held and Path are never covered (Path is where the entry was found).

// SealEntry returns the seal of m as the entry name in the folder born
// parentBorn.
func (k *Keys) SealEntry(name, parentBorn string, m *wire.Meta) string {
	return base64.RawURLEncoding.EncodeToString(k.entrySum(name, parentBorn, m))
}

// VerifyEntry reports whether m.Seal is m's seal as the entry name in the
// folder born parentBorn.
func (k *Keys) VerifyEntry(name, parentBorn string, m *wire.Meta) bool {
	got, err := base64.RawURLEncoding.DecodeString(m.Seal)
	if err != nil {
		return false
	}
	return hmac.Equal(got, k.entrySum(name, parentBorn, m))
}

func (k *Keys) entrySum(name, parentBorn string, m *wire.Meta) []byte {
	var b []byte
	str := func(s string) { b = binary.AppendUvarint(b, uint64(len(s))); b = append(b, s...) }
	num := func(v int64) { b = binary.BigEndian.AppendUint64(b, uint64(v)) }
	flag := func(v bool) {
		if v {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	}
	str("dfs entry v1")
	str(name)
	str(parentBorn)
	flag(m.Dir)
	flag(m.Deleted)
	str(m.Stamp)
	str(m.Born)
	if !m.Deleted {
		num(int64(m.Mode))
		num(int64(m.UID))
		num(int64(m.GID))
		num(m.ATime)
		if !m.Dir {
			str(m.Version)
			num(m.Size)
			num(m.MTime)
			num(m.CTime)
			str(m.Target)
			num(int64(len(m.Segments)))
			for i := range m.Segments {
				s := &m.Segments[i]
				num(s.Index)
				str(s.ID)
				num(s.Size)
				str(s.MD5)
				for _, c := range s.Chunks {
					num(c.Size)
					str(c.SHA256)
				}
			}
		}
	}
	return mac(k.entryMAC, b)
}
