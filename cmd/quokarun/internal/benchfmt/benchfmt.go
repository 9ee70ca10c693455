// Package benchfmt holds the results of `quokarun bench` and prints them the way llama-bench does:
// a markdown table (default), CSV or JSON, with a speedup column against the dense rows, and a PNG
// plot of time to first token against prompt length.
package benchfmt

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/quoka-llm/quoka/models"
)

// Run is one timed prefill (+ first token) of a prompt.
type Run struct {
	TTFTSeconds    float64 `json:"ttft_s"`
	PrefillSeconds float64 `json:"prefill_s"`
}

// Row is one (setting, prompt length) cell of the benchmark with its repetitions.
type Row struct {
	Model    string  `json:"model"`
	SizeMiB  float64 `json:"size_mib"`
	Params   int64   `json:"params"`
	Threads  int     `json:"threads"`
	UBatch   int     `json:"n_ubatch"`
	Quoka    string  `json:"quoka"` // "off" for dense, else the budget ("1024", "25%")
	Prompt   int     `json:"n_prompt"`
	Seqs     int     `json:"n_seq,omitempty"` // prompts prefilled together (0 or 1: one)
	Runs     []Run   `json:"runs"`
	TTFTMean float64 `json:"ttft_ms"`
	TTFTStd  float64 `json:"ttft_ms_stddev"`
	TPSMean  float64 `json:"pp_tps"`
	TPSStd   float64 `json:"pp_tps_stddev"`
	Speedup  float64 `json:"speedup"` // dense TTFT / this TTFT at the same prompt length; 0 when unknown
}

// Dense reports whether the row is a dense (QUOKA off) row.
func (r Row) Dense() bool { return r.Quoka == "" || r.Quoka == "off" }

// meanStd of xs (sample standard deviation; 0 for fewer than two values).
func meanStd(xs []float64) (float64, float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	m := s / float64(len(xs))
	if len(xs) < 2 {
		return m, 0
	}
	v := 0.0
	for _, x := range xs {
		v += (x - m) * (x - m)
	}
	return m, math.Sqrt(v / float64(len(xs)-1))
}

// seqs is the number of prompts of the row (at least 1).
func (r Row) seqs() int { return max(1, r.Seqs) }

// test names the test as llama-bench does: pp4096, or 2xpp4096 for two prompts prefilled together.
func (r Row) test() string {
	if r.seqs() > 1 {
		return fmt.Sprintf("%dxpp%d", r.seqs(), r.Prompt)
	}
	return fmt.Sprintf("pp%d", r.Prompt)
}

// Summarize fills the means, spreads and speedups of rows from their runs.
func Summarize(rows []Row) {
	type key struct{ prompt, seqs int }
	dense := map[key]float64{}
	for i := range rows {
		r := &rows[i]
		var ttft, tps []float64
		for _, run := range r.Runs {
			ttft = append(ttft, run.TTFTSeconds*1e3)
			if run.PrefillSeconds > 0 {
				tps = append(tps, float64(r.seqs()*r.Prompt)/run.PrefillSeconds)
			}
		}
		r.TTFTMean, r.TTFTStd = meanStd(ttft)
		r.TPSMean, r.TPSStd = meanStd(tps)
		if r.Dense() {
			dense[key{r.Prompt, r.seqs()}] = r.TTFTMean
		}
	}
	for i := range rows {
		r := &rows[i]
		r.Speedup = 0
		if d, ok := dense[key{r.Prompt, r.seqs()}]; ok && r.TTFTMean > 0 {
			r.Speedup = d / r.TTFTMean
		}
	}
}

var header = []string{"model", "size", "params", "threads", "n_ubatch", "quoka", "test", "ttft ms", "t/s", "speedup"}

func (r Row) cells() []string {
	sp := ""
	if r.Speedup > 0 {
		sp = fmt.Sprintf("%.2fx", r.Speedup)
	}
	return []string{
		r.Model,
		fmt.Sprintf("%.2f MiB", r.SizeMiB),
		models.HumanCount(r.Params),
		strconv.Itoa(r.Threads),
		strconv.Itoa(r.UBatch),
		r.Quoka,
		r.test(),
		fmt.Sprintf("%.2f ± %.2f", r.TTFTMean, r.TTFTStd),
		fmt.Sprintf("%.2f ± %.2f", r.TPSMean, r.TPSStd),
		sp,
	}
}

// numeric columns are right-aligned, as in llama-bench
var rightAligned = map[string]bool{"size": true, "params": true, "threads": true, "n_ubatch": true,
	"test": true, "ttft ms": true, "t/s": true, "speedup": true}

// Markdown writes the llama-bench-style table.
func Markdown(w io.Writer, rows []Row) error {
	width := make([]int, len(header))
	for i, h := range header {
		width[i] = len(h)
	}
	all := make([][]string, len(rows))
	for j, r := range rows {
		all[j] = r.cells()
		for i, c := range all[j] {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	line := func(cells []string) string {
		var b strings.Builder
		b.WriteString("|")
		for i, c := range cells {
			pad := strings.Repeat(" ", width[i]-len([]rune(c)))
			if rightAligned[header[i]] {
				b.WriteString(" " + pad + c + " |")
			} else {
				b.WriteString(" " + c + pad + " |")
			}
		}
		return b.String()
	}
	var sep strings.Builder
	sep.WriteString("|")
	for i := range header {
		if rightAligned[header[i]] {
			sep.WriteString(" " + strings.Repeat("-", width[i]-1) + ": |")
		} else {
			sep.WriteString(" " + strings.Repeat("-", width[i]) + " |")
		}
	}
	if _, err := fmt.Fprintln(w, line(header)); err != nil {
		return err
	}
	if _, err := fmt.Fprintln(w, sep.String()); err != nil {
		return err
	}
	for _, c := range all {
		if _, err := fmt.Fprintln(w, line(c)); err != nil {
			return err
		}
	}
	return nil
}

// CSV writes one line per row with raw numbers.
func CSV(w io.Writer, rows []Row) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"model", "size_mib", "params", "threads", "n_ubatch", "quoka", "n_prompt",
		"ttft_ms", "ttft_ms_stddev", "pp_tps", "pp_tps_stddev", "speedup", "reps", "n_seq"})
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', 4, 64) }
	for _, r := range rows {
		_ = cw.Write([]string{r.Model, f(r.SizeMiB), strconv.FormatInt(r.Params, 10), strconv.Itoa(r.Threads),
			strconv.Itoa(r.UBatch), r.Quoka, strconv.Itoa(r.Prompt), f(r.TTFTMean), f(r.TTFTStd),
			f(r.TPSMean), f(r.TPSStd), f(r.Speedup), strconv.Itoa(len(r.Runs)), strconv.Itoa(r.seqs())})
	}
	cw.Flush()
	return cw.Error()
}

// JSON writes the rows as an indented JSON array.
func JSON(w io.Writer, rows []Row) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rows)
}

var writers = map[string]func(io.Writer, []Row) error{
	"": Markdown, "md": Markdown, "markdown": Markdown, "csv": CSV, "json": JSON,
}

// CheckFormat reports whether Write knows format.
func CheckFormat(format string) error {
	if _, ok := writers[format]; !ok {
		return fmt.Errorf("unknown output format %q (md, csv, json)", format)
	}
	return nil
}

// Write dispatches on format: "md" (or "markdown"), "csv" or "json".
func Write(w io.Writer, format string, rows []Row) error {
	if err := CheckFormat(format); err != nil {
		return err
	}
	return writers[format](w, rows)
}
