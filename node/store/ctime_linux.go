package store

import (
	"os"
	"syscall"
	"time"
)

// changeTime returns fi's inode change time (ctime), which a rename sets:
// recovery tells by it the chunk files moved in since an entry's last
// flush (recover.go).
func changeTime(fi os.FileInfo) (time.Time, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(st.Ctim.Sec, st.Ctim.Nsec), true
}
