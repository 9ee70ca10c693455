package llama

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTextStream(t *testing.T) {
	euro := []byte("€") // 3 bytes
	for _, tc := range []struct {
		name   string
		stops  []string
		pieces [][]byte
		want   []string // what the callback receives
		text   string
		reason StopReason
	}{
		{
			name:   "plain",
			pieces: [][]byte{[]byte("Once"), []byte(" upon")},
			want:   []string{"Once", " upon"},
			text:   "Once upon",
		},
		{
			name:   "utf-8 split across tokens",
			pieces: [][]byte{[]byte("a"), euro[:1], euro[1:2], euro[2:], []byte("b")},
			want:   []string{"a", "€", "b"},
			text:   "a€b",
		},
		{
			name:   "utf-8 split with the next character",
			pieces: [][]byte{euro[:2], append(euro[2:3:3], euro[:1]...), euro[1:]},
			want:   []string{"€", "€"},
			text:   "€€",
		},
		{
			name:   "invalid bytes flushed at the end",
			pieces: [][]byte{[]byte("x"), {0xe2, 0x82}},
			want:   []string{"x", "\xe2\x82"},
			text:   "x\xe2\x82",
		},
		{
			name:   "stop word within a token",
			stops:  []string{"END"},
			pieces: [][]byte{[]byte("abc"), []byte("dEND"), []byte("more")},
			want:   []string{"abc", "d"},
			text:   "abcd",
			reason: StopWord,
		},
		{
			name:   "stop word across tokens is never streamed",
			stops:  []string{"\nUser:"},
			pieces: [][]byte{[]byte("Hi!"), []byte("\n"), []byte("Us"), []byte("er:"), []byte("x")},
			want:   []string{"Hi!"},
			text:   "Hi!",
			reason: StopWord,
		},
		{
			name:   "held prefix released when it stops matching",
			stops:  []string{"STOP"},
			pieces: [][]byte{[]byte("ST"), []byte("AR"), []byte("T")},
			want:   []string{"STAR", "T"},
			text:   "START",
		},
		{
			name:   "earliest of several stop words",
			stops:  []string{"cat", "dog", ""},
			pieces: [][]byte{[]byte("a dog and a cat")},
			want:   []string{"a "},
			text:   "a ",
			reason: StopWord,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			s := newTextStream(tc.stops, func(p string) bool { got = append(got, p); return true })
			reason := StopNone
			for _, p := range tc.pieces {
				if !s.push(p) {
					reason = s.reason
					break
				}
			}
			if reason == StopNone {
				s.flush()
			}
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.text, s.text())
			assert.Equal(t, tc.reason, reason)
			assert.Equal(t, tc.text, strings.Join(got, ""))
		})
	}
}

func TestTextStreamCallbackStops(t *testing.T) {
	s := newTextStream(nil, func(string) bool { return false })
	assert.False(t, s.push([]byte("a")))
	assert.Equal(t, StopCallback, s.reason)
	assert.Equal(t, "a", s.text())
}
