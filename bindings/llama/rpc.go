package llama

/*
#include <stdlib.h>
#include "ggml-backend.h"
#include "ggml-rpc.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// ErrRPCUnavailable is returned when a ggml-rpc server cannot be reached or
// speaks another protocol version (for example a server built without the
// QUOKA patch series, whose op list differs).
var ErrRPCUnavailable = errors.New("ggml-rpc server unavailable")

// RPCDialTimeout bounds the reachability check of each RPC server.
var RPCDialTimeout = 3 * time.Second

// RPCProtocolVersion is the ggml-rpc protocol this build speaks.
const RPCProtocolVersion = "8.0.0"

var rpcMu sync.Mutex

// rpcDevices registers the ggml-rpc servers (host:port) with ggml, once per
// server and process, and returns their devices. A server is first dialled
// from Go, so that a dead server is an error here rather than an abort in
// ggml's client, and its HELLO answer is checked against this build's
// protocol version.
func rpcDevices(servers []string) ([]C.ggml_backend_dev_t, error) {
	rpcMu.Lock()
	defer rpcMu.Unlock()
	var devs []C.ggml_backend_dev_t
	for _, s := range servers {
		s = strings.TrimSpace(s)
		if _, _, err := net.SplitHostPort(s); err != nil {
			return nil, fmt.Errorf("rpc server %q: want host:port: %w", s, err)
		}
		if err := rpcHello(s); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrRPCUnavailable, s, err)
		}
		cs := C.CString(s)
		reg := C.ggml_backend_rpc_add_server(cs)
		C.free(unsafe.Pointer(cs))
		if reg == nil {
			return nil, fmt.Errorf("%w: %s: no devices", ErrRPCUnavailable, s)
		}
		registerRPC(s, reg)
		for i := C.size_t(0); i < C.ggml_backend_reg_dev_count(reg); i++ {
			devs = append(devs, C.ggml_backend_reg_dev_get(reg, i))
		}
	}
	return devs, nil
}

var rpcRegistered = map[string]bool{}

// registerRPC adds reg to ggml's device registry once per endpoint.
func registerRPC(endpoint string, reg C.ggml_backend_reg_t) {
	if !rpcRegistered[endpoint] {
		C.ggml_backend_register(reg)
		rpcRegistered[endpoint] = true
	}
}

// rpcHello opens a connection, sends ggml-rpc's HELLO and checks the version
// of the answer, so that a server with another op list is refused with a
// clear message (ggml's own client would abort the process).
func rpcHello(endpoint string) error {
	conn, err := net.DialTimeout("tcp", endpoint, RPCDialTimeout)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(RPCDialTimeout)); err != nil {
		return err
	}
	// request: cmd (1 byte) | size (8 bytes) | rpc_msg_hello_req
	req := make([]byte, 1+8+helloReqSize)
	req[0] = rpcCmdHello
	putU64(req[1:], uint64(helloReqSize))
	if _, err := conn.Write(req); err != nil {
		return fmt.Errorf("sending HELLO: %w", err)
	}
	// response: size (8 bytes) | rpc_msg_hello_rsp (major, minor, patch, caps)
	var hdr [8]byte
	if _, err := readFull(conn, hdr[:]); err != nil {
		return fmt.Errorf("no HELLO answer (not a ggml-rpc server, or one of another protocol): %w", err)
	}
	n := getU64(hdr[:])
	if n < 3 || n > 1<<16 {
		return fmt.Errorf("malformed HELLO answer (%d bytes)", n)
	}
	rsp := make([]byte, n)
	if _, err := readFull(conn, rsp); err != nil {
		return fmt.Errorf("short HELLO answer: %w", err)
	}
	got := fmt.Sprintf("%d.%d.%d", rsp[0], rsp[1], rsp[2])
	if int(rsp[0]) != int(C.RPC_PROTO_MAJOR_VERSION) || int(rsp[1]) > int(C.RPC_PROTO_MINOR_VERSION) {
		return fmt.Errorf("server speaks ggml-rpc %s, this client %s: client and server must be built from the same "+
			"patched ggml (rebuild rpc-server from this checkout's series)", got, RPCProtocolVersion)
	}
	return nil
}

// The HELLO exchange of ggml-rpc (ggml/src/ggml-rpc): command 14
// (RPC_CMD_HELLO), a request of RPC_CONN_CAPS_SIZE (24) capability bytes, an
// answer of major, minor, patch, padding and 24 capability bytes. The
// request's capabilities are zero: no transport upgrade is offered.
const (
	rpcCmdHello  = 14
	helloReqSize = 24
)

func putU64(b []byte, v uint64) {
	for i := 0; i < 8; i++ {
		b[i] = byte(v >> (8 * i))
	}
}

func getU64(b []byte) uint64 {
	var v uint64
	for i := 0; i < 8; i++ {
		v |= uint64(b[i]) << (8 * i)
	}
	return v
}

func readFull(c net.Conn, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := c.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// offloadDevices is the device list for a model load: nil (llama.cpp's
// default: every device) when no RPC server was ever registered, the RPC
// servers' devices when servers are given, and else the local non-CPU
// devices only, so that RPC servers registered for one model are not used by
// the next.
func offloadDevices(servers []string) ([]C.ggml_backend_dev_t, error) {
	if len(servers) > 0 {
		return rpcDevices(servers)
	}
	rpcMu.Lock()
	defer rpcMu.Unlock()
	if len(rpcRegistered) == 0 {
		return nil, nil
	}
	devs := []C.ggml_backend_dev_t{}
	for i := C.size_t(0); i < C.ggml_backend_dev_count(); i++ {
		d := C.ggml_backend_dev_get(i)
		name := C.GoString(C.ggml_backend_dev_name(d))
		if C.ggml_backend_dev_type(d) == C.GGML_BACKEND_DEVICE_TYPE_CPU || strings.HasPrefix(name, "RPC") {
			continue
		}
		devs = append(devs, d)
	}
	return devs, nil
}
