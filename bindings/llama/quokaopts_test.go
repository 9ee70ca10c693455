package llama

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestQuokaOptionsString(t *testing.T) {
	for _, tc := range []struct {
		q      QuokaOptions
		want   string
		extras string
	}{
		{QuokaOptions{}, "off", ""},
		{QuokaOptions{Enabled: true, Budget: 256}, "B_SA=256 N_Q=16 min_kv=0", ""},
		{QuokaOptions{Enabled: true, BudgetFraction: 0.125, Queries: 8, MinKV: 512}, "B_SA=12.5% N_Q=8 min_kv=512", ""},
		{QuokaOptions{Enabled: true, Budget: 64, Chunk: 128, Sink: 4}, "B_SA=64 N_Q=16 min_kv=0 chunk=128 sink=4", " chunk=128 sink=4"},
		{QuokaOptions{Enabled: true, Budget: 64, Decode: true, Force: true, Invert: true},
			"B_SA=64 N_Q=16 min_kv=0 decode force inverted", " decode force inverted"},
	} {
		assert.Equal(t, tc.want, tc.q.String())
		assert.Equal(t, tc.extras, tc.q.Extras(), tc.want)
	}
}
