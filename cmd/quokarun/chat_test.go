package main

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/quoka-llm/quoka/bindings/llama"
)

func TestDropOldestTurn(t *testing.T) {
	sys := llama.ChatMessage{Role: "system", Content: "s"}
	u := func(s string) llama.ChatMessage { return llama.ChatMessage{Role: "user", Content: s} }
	a := func(s string) llama.ChatMessage { return llama.ChatMessage{Role: "assistant", Content: s} }
	for _, tc := range []struct {
		name    string
		history []llama.ChatMessage
		want    []llama.ChatMessage
		dropped bool
	}{
		{"pair", []llama.ChatMessage{u("1"), a("1"), u("2")}, []llama.ChatMessage{u("2")}, true},
		{"keeps system", []llama.ChatMessage{sys, u("1"), a("1"), u("2"), a("2"), u("3")}, []llama.ChatMessage{sys, u("2"), a("2"), u("3")}, true},
		{"unanswered message", []llama.ChatMessage{u("1"), u("2")}, []llama.ChatMessage{u("2")}, true},
		{"only the newest", []llama.ChatMessage{u("1")}, []llama.ChatMessage{u("1")}, false},
		{"system and newest", []llama.ChatMessage{sys, u("1")}, []llama.ChatMessage{sys, u("1")}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &chatSession{history: tc.history}
			assert.Equal(t, tc.dropped, s.dropOldestTurn())
			assert.Equal(t, tc.want, s.history)
		})
	}
}
