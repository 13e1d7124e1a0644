package conf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindClient(t *testing.T) {
	home, wd := t.TempDir(), t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("DFS_CONF", "")
	t.Chdir(wd)

	if p, err := FindClient("x.conf"); p != "x.conf" || err != nil {
		t.Errorf("flag: %q, %v", p, err)
	}
	_, err := FindClient("")
	if err == nil || !strings.Contains(err.Error(), "./dfc.conf") || !strings.Contains(err.Error(), filepath.Join(home, ".config/dfs/dfc.conf")) {
		t.Errorf("nothing there: %v", err)
	}
	homeConf := filepath.Join(home, ".config", "dfs", "dfc.conf")
	os.MkdirAll(filepath.Dir(homeConf), 0o700)
	os.WriteFile(homeConf, nil, 0o600)
	if p, err := FindClient(""); p != homeConf || err != nil {
		t.Errorf("home: %q, %v", p, err)
	}
	os.WriteFile(filepath.Join(wd, "dfc.conf"), nil, 0o600)
	if p, err := FindClient(""); p != "dfc.conf" || err != nil {
		t.Errorf("cwd: %q, %v", p, err)
	}
	t.Setenv("DFS_CONF", "/etc/dfc.conf")
	if p, err := FindClient(""); p != "/etc/dfc.conf" || err != nil {
		t.Errorf("env: %q, %v", p, err)
	}
}
