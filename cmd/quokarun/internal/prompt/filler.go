package prompt

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
)

// Filler supplies the haystack: a sequence of units (sentences) chosen by rng.
type Filler interface {
	// Units returns consecutive filler units and their token counts (each counted alone, minus
	// the count of the empty prompt), at least need tokens in all.
	Units(rng *rand.Rand, tok Tokenizer, need int) ([]string, []int, error)
}

// markers are special-token-like strings in texts (e.g. TinyStories' <|endoftext|>).
var markers = regexp.MustCompile(`<\|[^|>]*\|>`)

// sentenceEnd matches the end of a sentence: . ! or ? (with closing quotes or brackets) before
// white space.
var sentenceEnd = regexp.MustCompile(`[.!?]+["'”’)\]]*\s`)

// SplitSentences cuts text into sentences at sentence ends, with white space collapsed to single
// spaces and special-token markers removed. A tail without an end mark is kept as a sentence.
func SplitSentences(text string) []string {
	text = markers.ReplaceAllString(text, " ")
	text = strings.Join(strings.Fields(text), " ") + " "
	var out []string
	start := 0
	for _, m := range sentenceEnd.FindAllStringIndex(text, -1) {
		if s := strings.TrimSpace(text[start:m[1]]); s != "" {
			out = append(out, s)
		}
		start = m[1]
	}
	if s := strings.TrimSpace(text[start:]); s != "" {
		out = append(out, s)
	}
	return out
}

// TextFiller is a real text cut at sentence boundaries. Each prompt starts at a sentence chosen by
// rng and wraps around at the end.
type TextFiller struct {
	sentences []string
}

// NewTextFiller splits text into sentences; it fails on a text without any.
func NewTextFiller(text string) (*TextFiller, error) {
	s := SplitSentences(text)
	if len(s) == 0 {
		return nil, errors.New("haystack text has no sentences")
	}
	return &TextFiller{sentences: s}, nil
}

// Len is the number of sentences.
func (f *TextFiller) Len() int { return len(f.sentences) }

// Units implements Filler.
func (f *TextFiller) Units(rng *rand.Rand, tok Tokenizer, need int) ([]string, []int, error) {
	base, err := tok.Count("")
	if err != nil {
		return nil, nil, fmt.Errorf("tokenize: %w", err)
	}
	var units []string
	var counts []int
	total := 0
	for i, k := rng.IntN(len(f.sentences)), 0; total < need; i, k = (i+1)%len(f.sentences), k+1 {
		if k > 0 && k%len(f.sentences) == 0 && total == 0 {
			return nil, nil, errors.New("haystack sentences tokenize to nothing")
		}
		c, err := tok.Count(f.sentences[i])
		if err != nil {
			return nil, nil, fmt.Errorf("tokenize: %w", err)
		}
		c = max(c-base, 1) // never zero, so the loop ends
		units = append(units, f.sentences[i])
		counts = append(counts, c)
		total += c
	}
	return units, counts, nil
}

// Generated is the built-in haystack: simple story-like sentences from a small grammar, drawn
// by rng, so that the tool works without any file. The same rng state gives the same text.
type Generated struct{}

// Units implements Filler.
func (Generated) Units(rng *rand.Rand, tok Tokenizer, need int) ([]string, []int, error) {
	base, err := tok.Count("")
	if err != nil {
		return nil, nil, fmt.Errorf("tokenize: %w", err)
	}
	var units []string
	var counts []int
	total := 0
	for total < need {
		s := GenerateSentence(rng)
		c, err := tok.Count(s)
		if err != nil {
			return nil, nil, fmt.Errorf("tokenize: %w", err)
		}
		c = max(c-base, 1)
		units = append(units, s)
		counts = append(counts, c)
		total += c
	}
	return units, counts, nil
}

var (
	genNames   = []string{"Tom", "Lily", "Ben", "Anna", "Sam", "Mia", "Max", "Lucy", "Tim", "Sue", "Jack", "Emma"}
	genAnimals = []string{"dog", "cat", "bird", "fish", "bunny", "duck", "frog", "horse", "cow", "bear"}
	genThings  = []string{"ball", "kite", "box", "book", "cake", "hat", "car", "boat", "tree", "flower", "toy", "cup", "apple", "shell"}
	genAdjs    = []string{"big", "small", "red", "blue", "green", "happy", "shiny", "soft", "old", "new", "little", "pretty"}
	genPlaces  = []string{"the park", "the garden", "the house", "the river", "the forest", "the beach", "school", "the farm", "the shop", "the hill"}
	genVerbs   = []string{"saw", "found", "liked", "wanted", "had", "made", "took", "gave away", "looked at", "played with"}
	genFeel    = []string{"happy", "sad", "tired", "excited", "scared", "proud", "hungry", "sleepy", "surprised", "kind"}
	genTimes   = []string{"One day", "Every morning", "After lunch", "At night", "In the spring", "Later", "Then", "The next day"}
)

func pick(rng *rand.Rand, xs []string) string { return xs[rng.IntN(len(xs))] }

// GenerateSentence draws one sentence of the built-in haystack.
func GenerateSentence(rng *rand.Rand) string {
	switch rng.IntN(8) {
	case 0:
		return fmt.Sprintf("%s, %s went to %s.", pick(rng, genTimes), pick(rng, genNames), pick(rng, genPlaces))
	case 1:
		return fmt.Sprintf("%s %s a %s %s.", pick(rng, genNames), pick(rng, genVerbs), pick(rng, genAdjs), pick(rng, genThings))
	case 2:
		return fmt.Sprintf("The %s was %s and %s.", pick(rng, genAnimals), pick(rng, genAdjs), pick(rng, genFeel))
	case 3:
		return fmt.Sprintf("%s felt %s because the %s was %s.", pick(rng, genNames), pick(rng, genFeel), pick(rng, genThings), pick(rng, genAdjs))
	case 4:
		return fmt.Sprintf("\"Look at the %s %s!\" said %s.", pick(rng, genAdjs), pick(rng, genAnimals), pick(rng, genNames))
	case 5:
		return fmt.Sprintf("%s and %s played with the %s in %s.", pick(rng, genNames), pick(rng, genNames), pick(rng, genThings), pick(rng, genPlaces))
	case 6:
		return fmt.Sprintf("The %s %s ran to %s.", pick(rng, genAdjs), pick(rng, genAnimals), pick(rng, genPlaces))
	default:
		return fmt.Sprintf("%s gave the %s a %s and they were %s.", pick(rng, genNames), pick(rng, genAnimals), pick(rng, genThings), pick(rng, genFeel))
	}
}
