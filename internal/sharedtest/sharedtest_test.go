package sharedtest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeTB records what Path, Skipf and Guard do to a test.
type fakeTB struct {
	testing.TB // nil: only the methods below may be called
	skipped    bool
	fatal      bool
	errored    bool
	cleanups   []func()
}

func (f *fakeTB) Helper()               {}
func (f *fakeTB) Skipf(string, ...any)  { f.skipped = true }
func (f *fakeTB) Fatalf(string, ...any) { f.fatal = true }
func (f *fakeTB) Errorf(string, ...any) { f.errored = true }
func (f *fakeTB) Cleanup(fn func())     { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) Skipped() bool         { return f.skipped }
func (f *fakeTB) String() string        { return fmt.Sprintf("%+v", *f) }
func (f *fakeTB) finish()               { runCleanups(f.cleanups) }
func runCleanups(fns []func()) {
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
}

func TestPathAndSkip(t *testing.T) {
	shared := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(shared, "models"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(shared, "models", "m.gguf"), []byte("GGUF"), 0o644))
	absent := filepath.Join(t.TempDir(), "no-shared")

	for _, tc := range []struct {
		name      string
		shared    string
		ci        string
		rel       string
		skipAfter bool // the test skips after getting the path
		wantSkip  bool
		wantFatal bool
		wantError bool
	}{
		{name: "absent, CI: skip", shared: absent, ci: "true", rel: "models/m.gguf", wantSkip: true},
		{name: "absent, local: skip", shared: absent, ci: "", rel: "models/m.gguf", wantSkip: true},
		{name: "file missing, local: skip", shared: shared, ci: "", rel: "models/x.gguf", wantSkip: true},
		{name: "file missing, CI: fail", shared: shared, ci: "true", rel: "models/x.gguf", wantFatal: true},
		{name: "file present, CI: runs", shared: shared, ci: "true", rel: "models/m.gguf"},
		{name: "present, CI=1, later skip: fail", shared: shared, ci: "1", rel: "models/m.gguf",
			skipAfter: true, wantSkip: true, wantError: true},
		{name: "present, local, later skip: skip", shared: shared, ci: "false", rel: "models/m.gguf",
			skipAfter: true, wantSkip: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("QUOKA_SHARED", tc.shared)
			t.Setenv("CI", tc.ci)
			f := &fakeTB{}
			p := Path(f, tc.rel)
			assert.Equal(t, filepath.Join(tc.shared, filepath.FromSlash(tc.rel)), p)
			if tc.skipAfter {
				f.Skipf("too fast")
			}
			f.finish()
			assert.Equal(t, tc.wantSkip, f.skipped, "skipped: %v", f)
			assert.Equal(t, tc.wantFatal, f.fatal, "fatal: %v", f)
			assert.Equal(t, tc.wantError, f.errored, "errored at the end: %v", f)
		})
	}
}

func TestSkipf(t *testing.T) {
	shared := t.TempDir()
	for _, tc := range []struct {
		name      string
		shared    string
		ci        string
		wantFatal bool
	}{
		{"CI with shared: fail", shared, "true", true},
		{"CI without shared: skip", filepath.Join(shared, "absent"), "true", false},
		{"local with shared: skip", shared, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("QUOKA_SHARED", tc.shared)
			t.Setenv("CI", tc.ci)
			f := &fakeTB{}
			Skipf(f, "testing.Short")
			assert.Equal(t, tc.wantFatal, f.fatal)
			assert.Equal(t, !tc.wantFatal, f.skipped)
		})
	}
}

func TestGuardArmsOnce(t *testing.T) {
	t.Setenv("QUOKA_SHARED", t.TempDir())
	t.Setenv("CI", "true")
	f := &fakeTB{}
	Guard(f)
	Guard(f)
	assert.Len(t, f.cleanups, 1)
	f.finish()
	Guard(f) // a finished test's entry is gone
	assert.Len(t, f.cleanups, 2)
}

func TestRootHoldsGoMod(t *testing.T) {
	root, err := Root()
	require.NoError(t, err)
	assert.FileExists(t, filepath.Join(root, "go.mod"))
	t.Setenv("QUOKA_SHARED", "")
	assert.Equal(t, filepath.Join(filepath.Dir(root), "shared"), Dir())
}
