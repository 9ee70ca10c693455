//go:build quoka_pkgconfig

package llama

// With the quoka_pkgconfig build tag the bindings also take their flags from
// pkg-config (quoka-llama.pc, written by `make install PREFIX=...`), so they
// build where this checkout's build/ directory is absent, e.g. from the
// module cache: set PKG_CONFIG_PATH=PREFIX/lib/pkgconfig and build with
// -tags quoka_pkgconfig. The in-checkout flags of backend.go stay, pointing
// at directories that do not exist there.

/*
#cgo pkg-config: quoka-llama
*/
import "C"
