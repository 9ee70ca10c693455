package tests

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rpcServer is a ggml-rpc server on 127.0.0.1 started by a test.
type rpcServer struct {
	addr string
	cmd  *exec.Cmd
}

func rpcServerBinary(t *testing.T) string {
	bin := filepath.Join(repoRoot, "build", "llama-build", "bin", "ggml-rpc-server")
	_, err := os.Stat(bin)
	require.NoError(t, err, "ggml-rpc-server is built by make build")
	return bin
}

// freePort asks the kernel for a free loopback port.
func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startRPCServer starts ggml-rpc-server on port (0: a free one) and waits until it accepts
// connections; the test's cleanup stops it.
func startRPCServer(t *testing.T, port int) *rpcServer {
	t.Helper()
	if port == 0 {
		port = freePort(t)
	}
	s := &rpcServer{addr: fmt.Sprintf("127.0.0.1:%d", port)}
	s.cmd = exec.Command(rpcServerBinary(t), "-H", "127.0.0.1", "-p", fmt.Sprint(port), "-t", "1")
	s.cmd.Stdout, s.cmd.Stderr = io.Discard, io.Discard
	require.NoError(t, s.cmd.Start())
	t.Cleanup(s.stop)
	deadline := time.Now().Add(10 * time.Second)
	for {
		// a bare TCP probe: the server takes the next client once this one closes
		c, err := net.DialTimeout("tcp", s.addr, time.Second)
		if err == nil {
			c.Close()
			return s
		}
		require.True(t, time.Now().Before(deadline), "rpc server on %s did not start: %v", s.addr, err)
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *rpcServer) stop() {
	if s.cmd.Process != nil && s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Signal(syscall.SIGKILL)
		_ = s.cmd.Wait()
	}
}

func longPrompt(t *testing.T, bytes int) string {
	data, err := os.ReadFile(sharedPath(t, "data/tinystories-sample.txt"))
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "prompt.txt")
	require.NoError(t, os.WriteFile(p, data[:bytes], 0o644))
	return p
}

// sparseUbatches reads the "quoka: N sparse ubatches" line of run --verbose.
func sparseUbatches(t *testing.T, stderr string) int {
	i := strings.Index(stderr, "quoka:")
	require.GreaterOrEqual(t, i, 0, stderr)
	var n int
	_, err := fmt.Sscanf(stderr[i:], "quoka: %d sparse ubatches", &n)
	require.NoError(t, err)
	return n
}

// TestRPCTwoServers: the model's layers split over two ggml-rpc servers and the local CPU give
// the same greedy text and the same eval kld figures as a local run, dense and with QUOKA (whose
// ops then run on the servers).
func TestRPCTwoServers(t *testing.T) {
	model := storiesModel(t)
	a, b := startRPCServer(t, 0), startRPCServer(t, 0)
	rpc := []string{"--rpc", a.addr + "," + b.addr, "-ngl", "4"} // 4 of 5 layers remote, 1 local
	prompt := longPrompt(t, 3000)
	for _, mode := range []struct {
		name string
		args []string
	}{
		{"dense", nil},
		{"quoka", []string{"--quoka-budget", "128"}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			args := append([]string{"run", "-m", model, "-f", prompt, "-n", "24", "--temp", "0", "-c", "2048",
				"-ub", "128", "--verbose"}, mode.args...)
			local := runQuokarun(t, "", args...)
			require.Equal(t, 0, local.code, local.stderr)
			remote := runQuokarun(t, "", append(args, rpc...)...)
			require.Equal(t, 0, remote.code, remote.stderr)
			assert.Equal(t, local.stdout, remote.stdout)
			assert.NotEmpty(t, strings.TrimSpace(local.stdout))
			if mode.args != nil {
				n := sparseUbatches(t, local.stderr)
				assert.Greater(t, n, 5)
				assert.Equal(t, n, sparseUbatches(t, remote.stderr))
			}
		})
	}
	t.Run("eval kld", func(t *testing.T) {
		text := sharedPath(t, "data/tinystories-kld.txt")
		args := []string{"eval", "kld", "-m", model, "-f", text, "-c", "1024", "--chunks", "1", "-ub", "128",
			"--quoka-budget", "128", "-t", "2", "--json"}
		var got [2]kldResult
		for i, extra := range [][]string{nil, rpc} {
			r := runQuokarunTimeout(t, 3*60, "", append(args, extra...)...)
			require.Equal(t, 0, r.code, r.stderr)
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &got[i]))
		}
		assert.Positive(t, got[0].Sparse)
		assert.Equal(t, got[0].Sparse, got[1].Sparse)
		assert.InDelta(t, got[0].Pooled.MeanKL, got[1].Pooled.MeanKL, 1e-6)
		assert.InDelta(t, got[0].Pooled.Top1, got[1].Pooled.Top1, 1e-9)
	})
}

// TestRPCServerErrors: an unreachable server, a server of another protocol version (a fake one
// answering HELLO as a stock 7.0.0 server does) and a server killed in the middle of a long
// prefill are clear errors, never a crash or a hang; once the server is back, the same call works.
func TestRPCServerErrors(t *testing.T) {
	model := storiesModel(t)
	t.Run("unreachable", func(t *testing.T) {
		r := runQuokarun(t, "", "run", "-m", model, "-p", "Once upon a time", "-n", "4", "--rpc", fmt.Sprintf("127.0.0.1:%d", freePort(t)))
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "ggml-rpc server unavailable")
		assert.Contains(t, r.stderr, "connection refused")
	})
	t.Run("other protocol version", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer l.Close()
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				// read cmd + size + request, answer major 7 minor 0 patch 0 (stock llama.cpp)
				hdr := make([]byte, 9)
				if _, err := io.ReadFull(c, hdr); err == nil {
					_, _ = io.CopyN(io.Discard, c, int64(binary.LittleEndian.Uint64(hdr[1:])))
					rsp := make([]byte, 8+28)
					binary.LittleEndian.PutUint64(rsp, 28)
					rsp[8] = 7
					_, _ = c.Write(rsp)
				}
				c.Close()
			}
		}()
		r := runQuokarun(t, "", "run", "-m", model, "-p", "Once upon a time", "-n", "4", "--rpc", l.Addr().String())
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "speaks ggml-rpc 7.0.0, this client 8.0.0")
	})
	t.Run("killed during prefill", func(t *testing.T) {
		if testing.Short() {
			t.Skip("needs a synthesized model and a long prefill")
		}
		dir := t.TempDir()
		big := filepath.Join(dir, "bench-small.gguf")
		r := runQuokarun(t, "", "synth", "-o", big, "--preset", "bench-small")
		require.Equal(t, 0, r.code, r.stderr)
		port := freePort(t)
		srv := startRPCServer(t, port)
		prompt := longPrompt(t, 4000)
		args := []string{"run", "-m", big, "-f", prompt, "-n", "4", "--temp", "0", "-c", "8192", "-ub", "256",
			"--quoka", "--rpc", srv.addr}
		cmd := exec.Command(quokarun, args...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Start())
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
			t.Fatalf("quokarun ended before its server was killed: %s", stderr.String())
		case <-time.After(3 * time.Second): // the weights are sent and the prefill has begun
		}
		srv.stop()
		killed := time.Now()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatal("quokarun hung after its RPC server died")
		}
		t.Logf("quokarun ended %.1f s after the server was killed", time.Since(killed).Seconds())
		assert.Equal(t, 1, cmd.ProcessState.ExitCode(), "an error exit, not a crash: %s", stderr.String())
		assert.Contains(t, stderr.String(), "RPC server")
		assert.Contains(t, stderr.String(), "quokarun:")

		// the server is back on the same port: the same call succeeds
		startRPCServer(t, port)
		r = runQuokarunTimeout(t, 5*60, "", args...)
		assert.Equal(t, 0, r.code, r.stderr)
	})
}
