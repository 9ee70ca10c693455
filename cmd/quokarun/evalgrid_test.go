package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v2"
)

// settingsFor parses args with the eval niah flags and returns evalSettings' result.
func settingsFor(t *testing.T, args ...string) ([]evalSetting, error) {
	t.Helper()
	var got []evalSetting
	var err error
	app := &cli.App{
		Name: "t",
		Commands: []*cli.Command{{
			Name:  "niah",
			Flags: evalNIAHCommand().Flags,
			Action: func(c *cli.Context) error {
				got, err = evalSettings(c)
				return nil
			},
		}},
	}
	require.NoError(t, app.Run(append([]string{"t", "niah"}, args...)))
	return got, err
}

func TestEvalSettings(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		names []string
		check func(t *testing.T, s evalSetting)
	}{
		{"defaults", nil, []string{"dense", "B_SA=12.5% N_Q=16"}, func(t *testing.T, s evalSetting) {
			assert.False(t, s.quoka.Invert || s.quoka.Force || s.quoka.Decode)
			assert.InDelta(t, 0.125, s.quoka.BudgetFraction, 1e-12)
		}},
		{"grid", []string{"--quoka-budget", "256,12.5%", "--quoka-queries", "8,16", "-ub", "256,512", "--no-dense"},
			[]string{"B_SA=256 N_Q=8", "B_SA=256 N_Q=16", "B_SA=12.5% N_Q=8", "B_SA=12.5% N_Q=16",
				"B_SA=256 N_Q=8", "B_SA=256 N_Q=16", "B_SA=12.5% N_Q=8", "B_SA=12.5% N_Q=16"}, nil},
		{"invert", []string{"--quoka-invert"}, []string{"dense", "B_SA=12.5% N_Q=16 inverted"}, func(t *testing.T, s evalSetting) {
			assert.True(t, s.quoka.Invert)
		}},
		{"force", []string{"--quoka-force", "--no-dense"}, []string{"B_SA=12.5% N_Q=16 force"}, func(t *testing.T, s evalSetting) {
			assert.True(t, s.quoka.Force)
		}},
		{"decode and sink", []string{"--quoka-decode", "--quoka-sink", "4", "--quoka-budget", "64"},
			[]string{"dense", "B_SA=64 N_Q=16 sink=4 decode"}, func(t *testing.T, s evalSetting) {
				assert.True(t, s.quoka.Decode)
				assert.Equal(t, 4, s.quoka.Sink)
				assert.Equal(t, 64, s.quoka.Budget)
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := settingsFor(t, tc.args...)
			require.NoError(t, err)
			var names []string
			for _, s := range got {
				names = append(names, s.Name)
				assert.Equal(t, s.Name != "dense", s.quoka.Enabled, s.Name)
				if s.Name != "dense" && tc.check != nil {
					tc.check(t, s)
				}
			}
			assert.Equal(t, tc.names, names)
		})
	}
}

func TestEvalSettingsErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--quoka-budget", "0"},
		{"--quoka-queries", "0"},
		{"--quoka-sink", "-1"},
		{"--quoka-budget", "off", "--no-dense"},
	} {
		_, err := settingsFor(t, args...)
		assert.Error(t, err, "%v", args)
	}
}
