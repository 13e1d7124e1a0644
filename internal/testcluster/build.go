package testcluster

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// bins are the commands built for this test binary.
var bins struct {
	mu    sync.Mutex // guards the fields below
	dir   string     // made by Main; "" builds into each test's folder
	built map[string]*built
}

// built is one command, built on first use.
type built struct {
	once sync.Once
	path string
	err  error
}

// Main runs a package's tests and then removes the commands they built.
// A package whose tests use Binary, RaceBinary or a process back end calls
// it from TestMain, so that each command is built once for all its tests:
//
//	func TestMain(m *testing.M) { testcluster.Main(m) }
func Main(m *testing.M) {
	dir, err := os.MkdirTemp("", "dfs-testbin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "testcluster:", err)
		os.Exit(1)
	}
	bins.mu.Lock()
	bins.dir = dir
	bins.mu.Unlock()
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Binary returns the path of command dfs/cmd/NAME (dfsnode, dfc,
// dfsmount) built without the race detector: tests only run it, and the
// detector would slow every run. It is built once per test binary under
// Main, else into the test's temporary folder.
func Binary(t testing.TB, name string) string {
	t.Helper()
	return build(t, name, false)
}

// RaceBinary is Binary built with -race when the test binary is, so that a
// race in the command itself fails its tests (Run looks for the report).
func RaceBinary(t testing.TB, name string) string {
	t.Helper()
	return build(t, name, raceEnabled)
}

func build(t testing.TB, name string, race bool) string {
	t.Helper()
	bins.mu.Lock()
	dir := bins.dir
	if dir == "" {
		bins.mu.Unlock()
		path, err := goBuild(t.TempDir(), name, race)
		if err != nil {
			t.Fatal(err)
		}
		return path
	}
	if race {
		dir = filepath.Join(dir, "race")
	}
	if bins.built == nil {
		bins.built = map[string]*built{}
	}
	key := filepath.Join(dir, name)
	b := bins.built[key]
	if b == nil {
		b = &built{}
		bins.built[key] = b
	}
	bins.mu.Unlock()
	b.once.Do(func() { b.path, b.err = goBuild(dir, name, race) })
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// goBuild builds dfs/cmd/NAME into dir. The go command is the one of the
// toolchain running the tests: go test puts its bin folder first on PATH.
func goBuild(dir, name string, race bool) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	args := []string{"build", "-o", dir + "/"}
	if race {
		args = append(args, "-race")
	}
	args = append(args, "dfs/cmd/"+name)
	if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		return "", fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return filepath.Join(dir, name), nil
}

// Race reports whether the tests were built with -race, which makes some
// work 20 times slower (a test moving metas of many MB may skip then).
func Race() bool { return raceEnabled }
