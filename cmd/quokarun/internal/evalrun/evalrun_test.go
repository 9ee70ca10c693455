package evalrun

import (
	"bytes"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func f(x float64) *float64 { return &x }

func sampleRecords() []Record {
	var recs []Record
	for _, s := range []string{"dense", "B_SA=256"} {
		for _, l := range []int{1024, 2048} {
			for _, d := range []float64{0, 50, 100} {
				for trial := 0; trial < 2; trial++ {
					ok := !(l == 2048 && d == 0 && (s == "dense" || trial == 0))
					score := 0.0
					if ok {
						score = 1
					}
					recs = append(recs, Record{ID: "niah/x", Task: "niah", Setting: s, UBatch: 512, Length: l, Depth: f(d),
						Trial: trial, Correct: ok, Score: score, PrefillMS: float64(l) / 10, SparseChunks: 1})
				}
			}
		}
	}
	return recs
}

var (
	settings = []Setting{{"dense", 512}, {"B_SA=256", 512}}
	lengths  = []int{1024, 2048}
	depths   = []float64{0, 50, 100}
)

func TestJSONLRoundTripAndTruncatedTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.jsonl")
	w, err := Create(path, true)
	require.NoError(t, err)
	recs := sampleRecords()[:3]
	for i := range recs {
		recs[i].ID = recs[i].ID + string(rune('a'+i))
		require.NoError(t, w.Write(recs[i]))
	}
	require.NoError(t, w.Close())
	got, err := Load(path)
	require.NoError(t, err)
	assert.Equal(t, recs, got)
	assert.Len(t, Done(got), 3)

	// a run killed while writing leaves half a line: it is ignored
	data, _ := os.ReadFile(path)
	require.NoError(t, os.WriteFile(path, append(data, []byte(`{"id":"niah/y","setting":"de`)...), 0o644))
	got, err = Load(path)
	require.NoError(t, err)
	assert.Len(t, got, 3)
	// appending to it drops the half line first
	w, err = Create(path, false)
	require.NoError(t, err)
	require.NoError(t, w.Write(recs[0]))
	require.NoError(t, w.Close())
	got, err = Load(path)
	require.NoError(t, err)
	assert.Len(t, got, 4)
	// a bad line in the middle is an error
	require.NoError(t, os.WriteFile(path, append([]byte("garbage\n"), data...), 0o644))
	_, err = Load(path)
	assert.ErrorContains(t, err, "line 1")
}

func TestNIAHSummary(t *testing.T) {
	cells := SummarizeNIAH(sampleRecords(), settings, lengths, depths)
	require.Len(t, cells, 12)
	assert.Equal(t, 2, cells[3].Cases)
	assert.Equal(t, 0.0, cells[3].Accuracy, "dense at 2048, depth 0")
	assert.Equal(t, 0.5, cells[9].Accuracy, "QUOKA at 2048, depth 0")
	assert.InDelta(t, 204.8, cells[3].PrefillMS, 1e-9)
	for _, format := range []string{"md", "csv", "json"} {
		var b bytes.Buffer
		require.NoError(t, NIAHTable(cells, depths).Write(&b, format))
		switch format {
		case "md":
			lines := strings.Split(strings.TrimSpace(b.String()), "\n")
			require.Len(t, lines, 6)
			assert.Contains(t, lines[0], "| d50% |")
			assert.Contains(t, lines[3], "| 0/2 |")
			assert.Contains(t, lines[3], "66.7%")
			assert.Contains(t, lines[5], "83.3%")
		case "csv":
			assert.Len(t, strings.Split(strings.TrimSpace(b.String()), "\n"), 5)
		case "json":
			var got []NIAHCell
			require.NoError(t, json.Unmarshal(b.Bytes(), &got))
			assert.Equal(t, cells, got)
		}
	}
	assert.Error(t, CheckFormat("xml"))
}

func TestRulerSummary(t *testing.T) {
	recs := []Record{
		{ID: "a", Task: "vt", Setting: "dense", UBatch: 512, Length: 1024, Score: 1},
		{ID: "b", Task: "vt", Setting: "dense", UBatch: 512, Length: 1024, Score: 0.6},
		{ID: "c", Task: "cwe", Setting: "dense", UBatch: 512, Length: 1024, Score: 0.2},
	}
	s := SummarizeRuler(recs, settings[:1], []string{"vt", "cwe"}, []int{1024})
	require.Len(t, s, 3)
	assert.InDelta(t, 80, s[0].Score, 1e-9)
	assert.InDelta(t, 20, s[1].Score, 1e-9)
	assert.Equal(t, "average", s[2].Task)
	assert.InDelta(t, 50, s[2].Score, 1e-9)
	var b bytes.Buffer
	require.NoError(t, RulerTable(s, settings[:1], []string{"vt", "cwe"}, []int{1024}).Write(&b, "md"))
	assert.Contains(t, b.String(), "| average |")
	assert.Contains(t, b.String(), "80.0")
}

func TestPlots(t *testing.T) {
	dir := t.TempDir()
	cells := SummarizeNIAH(sampleRecords(), settings, lengths, depths)
	path := filepath.Join(dir, "niah.png")
	require.NoError(t, HeatmapPNG(path, "test", cells, settings, lengths, depths))
	fh, err := os.Open(path)
	require.NoError(t, err)
	img, err := png.Decode(fh)
	fh.Close()
	require.NoError(t, err)
	assert.Greater(t, img.Bounds().Dx(), img.Bounds().Dy(), "panels side by side")
	if out := os.Getenv("EVALRUN_PLOT_DIR"); out != "" { // to look at them
		data, _ := os.ReadFile(path)
		_ = os.WriteFile(filepath.Join(out, "niah-test.png"), data, 0o644)
	}

	pts := []ParetoPoint{{"dense", 1, 1, true}, {"B_SA=256", 2, 0.9, false}, {"B_SA=128", 3, 0.5, false}, {"bad", 1.5, 0.4, false}}
	front := Front(pts)
	assert.Equal(t, []string{"dense", "B_SA=256", "B_SA=128"}, []string{front[0].Label, front[1].Label, front[2].Label})
	pp := filepath.Join(dir, "pareto.png")
	require.NoError(t, ParetoPNG(pp, "test", "NIAH accuracy (%)", pts))
	if out := os.Getenv("EVALRUN_PLOT_DIR"); out != "" {
		data, _ := os.ReadFile(pp)
		_ = os.WriteFile(filepath.Join(out, "pareto-test.png"), data, 0o644)
	}
	assert.Equal(t, color0(t, Scale(0)), [3]uint8{215, 48, 39})
	assert.Equal(t, color0(t, Scale(1)), [3]uint8{26, 152, 80})
}

func color0(t *testing.T, c interface{ RGBA() (r, g, b, a uint32) }) [3]uint8 {
	r, g, b, _ := c.RGBA()
	return [3]uint8{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8)}
}
