package clientconf

import (
	"fmt"
	"io"
	"os"

	"dfs/conf"
)

// warnReadable warns, as ssh does about a private key, when the conf at
// path holds a password and others than its owner may read it. It is a
// warning, not a refusal: the file was written by a person, and refusing
// would stop a mount at boot over a mode.
func warnReadable(path string, cc *conf.Client, out io.Writer) {
	if cc.Password == "" {
		return
	}
	st, err := os.Stat(path)
	if err != nil {
		return
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		fmt.Fprintf(out, "dfs: warning: %s holds a password and its mode %04o lets others read it; run chmod 600 %s\n", path, perm, path)
	}
}
