// Package sharedtest locates the shared test assets (models, data) in the
// folder ../shared beside the repository and decides what a test does when
// they are missing: outside CI it skips with a message, as on a fresh clone;
// in CI (CI=true) with ../shared present, a skip of a test that uses it is a
// failure, so that CI never silently stops running the model tests.
package sharedtest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

var (
	// guarded holds the tests whose skip guard is armed (one per test).
	guarded sync.Map

	rootOnce sync.Once
	rootDir  string
	rootErr  error
)

// Root is the repository root: the nearest folder above the working
// directory (a package folder during go test) that holds go.mod.
func Root() (string, error) {
	rootOnce.Do(func() { rootDir, rootErr = findRoot() })
	return rootDir, rootErr
}

func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("sharedtest: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("sharedtest: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Dir is the shared folder, whether or not it exists: $QUOKA_SHARED when
// set, else ../shared beside the repository root.
func Dir() string {
	if d := os.Getenv("QUOKA_SHARED"); d != "" {
		return d
	}
	root, err := Root()
	if err != nil {
		return filepath.Join("..", "shared")
	}
	return filepath.Join(filepath.Dir(root), "shared")
}

// Present reports whether the shared folder exists.
func Present() bool {
	fi, err := os.Stat(Dir())
	return err == nil && fi.IsDir()
}

// InCI reports whether the tests run in CI: the CI environment variable is
// a true boolean ("true", "1"), as CI services set it.
func InCI() bool {
	ci, err := strconv.ParseBool(os.Getenv("CI"))
	return err == nil && ci
}

// Strict reports whether skipping a model test is a failure: in CI with the
// shared folder present.
func Strict() bool { return InCI() && Present() }

// Path returns the shared file rel (slash-separated, e.g.
// "models/stories260K.gguf"). When the file is absent the test skips, or
// fails when Strict. Path also arms a guard: a test that uses a shared file
// and then skips, for whatever reason, fails when Strict.
func Path(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(Dir(), filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		if !Present() {
			t.Skipf("%s not available (%s, the shared folder beside the repository, is absent)", rel, Dir())
			return p
		}
		Skipf(t, "%s not available in %s: %v", rel, Dir(), err)
		return p
	}
	Guard(t)
	return p
}

// Skipf skips the test with the formatted message, or fails it when Strict:
// for model tests that skip for a reason other than ../shared being absent
// (testing.Short, a machine too fast to observe something).
func Skipf(t testing.TB, format string, args ...any) {
	t.Helper()
	if Strict() {
		t.Fatalf("a model test must not skip in CI while %s is present (CI=%s): "+format,
			append([]any{Dir(), os.Getenv("CI")}, args...)...)
		return
	}
	t.Skipf(format, args...)
}

// Guard fails the test at its end when it was skipped while Strict, whatever
// skipped it (a t.Skip in the test, a helper).
func Guard(t testing.TB) {
	t.Helper()
	if !Strict() {
		return
	}
	if _, armed := guarded.LoadOrStore(t, true); armed {
		return
	}
	t.Cleanup(func() {
		guarded.Delete(t)
		if t.Skipped() {
			t.Errorf("a model test skipped in CI while %s is present (CI=%s): a skip there is a failure",
				Dir(), os.Getenv("CI"))
		}
	})
}
