// Package ruler generates the synthetic tasks of RULER (Hsieh et al., 2024) in Go: the NIAH
// variants niah_single_1/2/3, niah_multikey_1/2/3, niah_multivalue and niah_multiquery, variable
// tracking (vt) and the aggregation tasks cwe and fwe, with RULER's task parameters, fitted to a
// length in tokens of the model's tokenizer, and scores outputs as RULER does (string_match_all).
//
// Differences from RULER, on purpose: the "essay" haystack is a text the user gives (or the
// built-in generated one; RULER ships Paul Graham's essays), the word material is generated here,
// the prompts are worded by this package, and vt/cwe carry no in-context example.
package ruler

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/quoka-llm/quoka/cmd/quokarun/internal/prompt"
)

// Config describes how cases are built.
type Config struct {
	// Essay is the haystack of the "essay" tasks; nil: the built-in generated text.
	Essay prompt.Filler
	// Format wraps the body and the question (ending with the answer prefix) into the prompt,
	// e.g. with a chat template; nil joins them with a newline.
	Format func(body, question string) (string, error)
	// Seed makes the cases reproducible.
	Seed uint64
}

// Case is one prompt of a task.
type Case struct {
	ID      string   `json:"id"`
	Task    string   `json:"task"`
	Length  int      `json:"length"` // requested length in tokens
	Trial   int      `json:"trial"`
	Prompt  string   `json:"-"`
	Answers []string `json:"answers"`
	Tokens  int      `json:"tokens"` // the prompt's length in tokens
	// MaxTokens is RULER's generation length for the task.
	MaxTokens int `json:"max_tokens"`
}

// task is one RULER task: its generation length and its builder.
type task struct {
	maxTokens int
	build     func(g *gen) (Case, error)
}

// niahSpec holds the parameters of a NIAH variant (RULER's synthetic.yaml).
type niahSpec struct {
	haystack           string // "essay", "repeat" or "needle"
	keyKind, valueKind string // "words", "numbers" or "uuids"
	keys, values       int
	queries            int
}

var tasks = map[string]task{
	"niah_single_1":   niahTask(niahSpec{"repeat", "words", "numbers", 1, 1, 1}),
	"niah_single_2":   niahTask(niahSpec{"essay", "words", "numbers", 1, 1, 1}),
	"niah_single_3":   niahTask(niahSpec{"essay", "words", "uuids", 1, 1, 1}),
	"niah_multikey_1": niahTask(niahSpec{"essay", "words", "numbers", 4, 1, 1}),
	"niah_multikey_2": niahTask(niahSpec{"needle", "words", "numbers", 1, 1, 1}),
	"niah_multikey_3": niahTask(niahSpec{"needle", "uuids", "uuids", 1, 1, 1}),
	"niah_multivalue": niahTask(niahSpec{"essay", "words", "numbers", 1, 4, 1}),
	"niah_multiquery": niahTask(niahSpec{"essay", "words", "numbers", 1, 1, 4}),
	"vt":              {maxTokens: 30, build: func(g *gen) (Case, error) { return g.variableTracking(1, 4) }},
	"cwe":             {maxTokens: 120, build: func(g *gen) (Case, error) { return g.commonWords(30, 3, 10) }},
	"fwe":             {maxTokens: 50, build: func(g *gen) (Case, error) { return g.frequentWords(2.0) }},
}

// Tasks lists the task names in RULER's order.
var Tasks = []string{"niah_single_1", "niah_single_2", "niah_single_3", "niah_multikey_1", "niah_multikey_2",
	"niah_multikey_3", "niah_multivalue", "niah_multiquery", "vt", "cwe", "fwe"}

// Known reports whether name is a task of this package.
func Known(name string) bool { _, ok := tasks[name]; return ok }

// gen is the state of one case being built.
type gen struct {
	cfg    Config
	tok    prompt.Tokenizer
	rng    *rand.Rand
	id     string
	length int
}

// Build makes the case of task at length (in tokens) for trial.
func Build(cfg Config, tok prompt.Tokenizer, name string, length, trial int) (Case, error) {
	t, ok := tasks[name]
	if !ok {
		return Case{}, fmt.Errorf("unknown RULER task %q", name)
	}
	id := fmt.Sprintf("%s/L%d/T%d", name, length, trial)
	g := &gen{cfg: cfg, tok: tok, rng: prompt.RNG(cfg.Seed, id), id: id, length: length}
	c, err := t.build(g)
	if err != nil {
		return Case{}, fmt.Errorf("case %s: %w", id, err)
	}
	c.ID, c.Task, c.Length, c.Trial, c.MaxTokens = id, name, length, trial, t.maxTokens
	return c, nil
}

func (g *gen) format(body, question string) (string, error) {
	if g.cfg.Format != nil {
		return g.cfg.Format(body, question)
	}
	return body + "\n" + question, nil
}

// fitFiller fills the body with filler units around items at their depths, as long as the
// prompt (intro + "\n" + body, question) fits the length.
func (g *gen) fitFiller(f prompt.Filler, items []prompt.Item, intro, question string) (Case, error) {
	units, counts, err := f.Units(g.rng, g.tok, g.length+g.length/8+16)
	if err != nil {
		return Case{}, err
	}
	_, text, n, err := prompt.Fit(g.tok, g.length, len(units), func(n int) (string, error) {
		return g.format(intro+"\n"+prompt.Assemble(units, counts, n, items, " ").Body, question)
	})
	if err != nil {
		return Case{}, err
	}
	return Case{Prompt: text, Tokens: n}, nil
}

// randomDepths draws n depths in [0, 1], sorted.
func (g *gen) randomDepths(n int) []float64 {
	d := make([]float64, n)
	for i := range d {
		d[i] = g.rng.Float64()
	}
	slices.Sort(d)
	return d
}

func (g *gen) draw(kind string) func(*rand.Rand) string {
	switch kind {
	case "uuids":
		return uuid
	case "numbers":
		return number
	}
	return keyWord
}

// listing joins names as "a", "a and b" or "a, b, and c".
func listing(xs []string) string {
	switch len(xs) {
	case 1:
		return xs[0]
	case 2:
		return xs[0] + " and " + xs[1]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + ", and " + xs[len(xs)-1]
}

func niahTask(s niahSpec) task {
	return task{maxTokens: 128, build: func(g *gen) (Case, error) { return g.niah(s) }}
}

// niah builds a NIAH variant: keys x values needles "One of the special magic <values> for <key>
// is: <value>." at random depths; the question asks for the values of `queries` of the keys.
func (g *gen) niah(s niahSpec) (Case, error) {
	nKeys := max(s.keys, s.queries)
	keys := distinct(g.rng, nKeys, g.draw(s.keyKind), nil)
	kind := s.valueKind
	if kind == "uuids" {
		kind = "UUIDs"
	}
	needle := func(k, v string) string { return fmt.Sprintf("One of the special magic %s for %s is: %s.", kind, k, v) }
	var items []prompt.Item
	values := map[string][]string{}
	for _, k := range keys {
		values[k] = distinct(g.rng, s.values, g.draw(s.valueKind), nil)
		for _, v := range values[k] {
			items = append(items, prompt.Item{Text: needle(k, v)})
		}
	}
	g.rng.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
	for i, d := range g.randomDepths(len(items)) {
		items[i].Depth = d
	}
	queries := slices.Clone(keys)
	g.rng.Shuffle(len(queries), func(i, j int) { queries[i], queries[j] = queries[j], queries[i] })
	queries = queries[:s.queries]
	var answers []string
	for _, q := range queries {
		answers = append(answers, values[q]...)
	}
	var f prompt.Filler
	switch s.haystack {
	case "repeat":
		f = repeatFiller(noise)
	case "needle":
		avoid := map[string]bool{}
		for _, k := range keys {
			avoid[k] = true
		}
		f = needleFiller{key: g.draw(s.keyKind), value: g.draw(s.valueKind), avoid: avoid, needle: needle}
	default:
		f = g.cfg.Essay
		if f == nil {
			f = prompt.Generated{}
		}
	}
	intro := fmt.Sprintf("Some special magic %s are hidden in the text below. Memorize them: I will ask you about the %s afterwards.", kind, kind)
	q := listing(queries)
	question := fmt.Sprintf("What are all the special magic %s for %s in the text above? The special magic %s for %s in the text above are", kind, q, kind, q)
	c, err := g.fitFiller(f, items, intro, question)
	c.Answers = answers
	return c, err
}

// variableTracking builds vt: chains of hops+1 variables ("VAR X = 12345", "VAR Y = VAR X", ...)
// in noise; the answer is every variable of the first chain.
func (g *gen) variableTracking(chains, hops int) (Case, error) {
	names := distinct(g.rng, chains*(hops+1), variable, nil)
	vals := distinct(g.rng, chains, func(r *rand.Rand) string { return fmt.Sprint(10000 + r.IntN(90000)) }, nil)
	var items []prompt.Item
	for c := 0; c < chains; c++ {
		chain := names[c*(hops+1) : (c+1)*(hops+1)]
		depths := g.randomDepths(hops + 1)
		for i, name := range chain {
			stmt := fmt.Sprintf("VAR %s = %s.", name, vals[c])
			if i > 0 {
				stmt = fmt.Sprintf("VAR %s = VAR %s.", name, chain[i-1])
			}
			items = append(items, prompt.Item{Text: stmt, Depth: depths[i]})
		}
	}
	intro := "Memorize and track the chains of variable assignments hidden in the text below."
	question := fmt.Sprintf("Question: Find all the variables that are assigned the value %s in the text above. "+
		"Answer: Following the chains of assignments in the text above, %d variables are assigned the value %s, namely:",
		vals[0], hops+1, vals[0])
	c, err := g.fitFiller(repeatFiller(noise), items, intro, question)
	c.Answers = slices.Clone(names[:hops+1])
	return c, err
}

// commonWords builds cwe: a numbered list in which numCommon words appear freqCommon times each
// and as many other words as fit appear freqRare times each. When the common words leave no
// room for other words, their frequency is halved (to no less than freqRare+1) until they do.
func (g *gen) commonWords(freqCommon, freqRare, numCommon int) (Case, error) {
	for {
		c, err := g.commonWordsAt(freqCommon, freqRare, numCommon)
		if err == nil && (c.rare > 0 || freqCommon <= freqRare+1) {
			return c.Case, nil
		}
		if freqCommon <= freqRare+1 {
			return Case{}, err
		}
		freqCommon = max(freqRare+1, freqCommon/2)
	}
}

type cweCase struct {
	Case
	rare int
}

func (g *gen) commonWordsAt(freqCommon, freqRare, numCommon int) (cweCase, error) {
	pool := distinct(g.rng, numCommon+g.length/freqRare+8, listWord, nil)
	common, rare := pool[:numCommon], pool[numCommon:]
	intro := "Below is a numbered list of words. Some of them appear more often than the others: memorize those."
	question := fmt.Sprintf("Question: What are the %d most common words in the list above? "+
		"Answer: The %d words that appear most often in the list are:", numCommon, numCommon)
	nRare, text, n, err := prompt.Fit(g.tok, g.length, len(rare), func(n int) (string, error) {
		var list []string
		for _, w := range common {
			for range freqCommon {
				list = append(list, w)
			}
		}
		for _, w := range rare[:n] {
			for range freqRare {
				list = append(list, w)
			}
		}
		rng := prompt.RNG(g.cfg.Seed, fmt.Sprintf("%s/%d", g.id, n))
		rng.Shuffle(len(list), func(i, j int) { list[i], list[j] = list[j], list[i] })
		var b strings.Builder
		for i, w := range list {
			fmt.Fprintf(&b, "%d. %s ", i+1, w)
		}
		return g.format(intro+"\n"+strings.TrimSpace(b.String()), question)
	})
	return cweCase{Case{Prompt: text, Tokens: n, Answers: slices.Clone(common)}, nRare}, err
}

// frequentWords builds fwe: coded words drawn from a Zipf distribution of exponent alpha; the
// answer is the three most frequent words of the text.
func (g *gen) frequentWords(alpha float64) (Case, error) {
	vocab := distinct(g.rng, 1000, codedWord, nil)
	z := rand.NewZipf(g.rng, alpha, 1, uint64(len(vocab)-1))
	draws := make([]int, g.length)
	for i := range draws {
		draws[i] = int(z.Uint64())
	}
	intro := "Read the coded text below and keep track of how often each coded word appears."
	question := "Question: What are the three most frequent coded words in the text above? " +
		"Answer: The three most frequent coded words in the text above are:"
	n, text, ntok, err := prompt.Fit(g.tok, g.length, len(draws), func(n int) (string, error) {
		words := make([]string, n)
		for i, d := range draws[:n] {
			words[i] = vocab[d]
		}
		return g.format(intro+"\n"+strings.Join(words, " "), question)
	})
	if err != nil {
		return Case{}, err
	}
	count := make([]int, len(vocab))
	for _, d := range draws[:n] {
		count[d]++
	}
	order := make([]int, len(vocab))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return count[b] - count[a] })
	answers := []string{vocab[order[0]], vocab[order[1]], vocab[order[2]]}
	return Case{Prompt: text, Tokens: ntok, Answers: answers}, nil
}

// noise is the unit of the "repeat" haystack.
const noise = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again."

// repeatFiller repeats one text.
type repeatFiller string

// Units implements prompt.Filler.
func (r repeatFiller) Units(_ *rand.Rand, tok prompt.Tokenizer, need int) ([]string, []int, error) {
	c, err := tok.Count(string(r))
	if err != nil {
		return nil, nil, err
	}
	base, err := tok.Count("")
	if err != nil {
		return nil, nil, err
	}
	c = max(c-base, 1)
	n := need/c + 1
	units, counts := make([]string, n), make([]int, n)
	for i := range units {
		units[i], counts[i] = string(r), c
	}
	return units, counts, nil
}

// needleFiller is the "needle" haystack: distractor needles with other keys and values.
type needleFiller struct {
	key, value func(*rand.Rand) string
	avoid      map[string]bool
	needle     func(k, v string) string
}

// Units implements prompt.Filler.
func (f needleFiller) Units(rng *rand.Rand, tok prompt.Tokenizer, need int) ([]string, []int, error) {
	base, err := tok.Count("")
	if err != nil {
		return nil, nil, err
	}
	var units []string
	var counts []int
	seen := map[string]bool{}
	for k := range f.avoid {
		seen[k] = true
	}
	for total := 0; total < need; {
		k := f.key(rng)
		if seen[k] {
			continue
		}
		seen[k] = true
		s := f.needle(k, f.value(rng))
		c, err := tok.Count(s)
		if err != nil {
			return nil, nil, err
		}
		c = max(c-base, 1)
		units, counts = append(units, s), append(counts, c)
		total += c
	}
	return units, counts, nil
}
