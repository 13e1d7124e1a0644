package conf

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ClientConfName is the file name of the client conf.
const ClientConfName = "dfc.conf"

// FindClient returns the path of the client conf to use: flagPath if it is
// not empty, else $DFS_CONF if set, else ./dfc.conf if it exists, else
// ~/.config/dfs/dfc.conf if it exists. Otherwise the error lists what was
// tried.
func FindClient(flagPath string) (string, error) {
	if flagPath != "" {
		return flagPath, nil
	}
	if env := os.Getenv("DFS_CONF"); env != "" {
		return env, nil
	}
	tried := []string{"$DFS_CONF (not set)"}
	candidates := []string{ClientConfName}
	if home, err := os.UserHomeDir(); err == nil {
		candidates = append(candidates, filepath.Join(home, ".config", "dfs", ClientConfName))
	}
	for _, c := range candidates {
		if st, err := os.Stat(c); err == nil && !st.IsDir() {
			return c, nil
		}
		if !filepath.IsAbs(c) {
			c = "./" + c
		}
		tried = append(tried, c)
	}
	return "", fmt.Errorf("no client conf found (tried %s); pass -conf PATH", strings.Join(tried, ", "))
}
