package ruler

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// word material for keys, lists and coded text (generated here, not taken from any corpus)
var (
	adjectives = strings.Fields(`able bold brave bright calm clever cold cool crisp curly damp dark deep eager
		early faint fancy fast fierce flat fresh gentle giant glad golden grand green happy hollow huge icy
		jolly keen kind large late lazy light little lively loud lucky merry mild misty noble odd old pale
		plain polite proud quick quiet rapid rare red rich rough round royal rusty sharp shiny short shy silent
		silver simple slow small smooth soft solid sour spicy steady steep stiff still strong sunny sweet swift
		tall tame tender thick thin tidy tiny warm weary wet wide wild windy wise young`)
	nouns = strings.Fields(`acorn anchor apple arrow badge banjo barrel basket beacon bell bench bicycle
		blanket bottle bridge brush bucket button cabin camera candle canoe carpet castle cello chair chimney
		clock cloud comet compass cookie crayon crown cup curtain desk diamond drum eagle engine falcon feather
		fence fiddle flag flute forest fountain garden glove guitar hammer harbor harp helmet hill island jacket
		jar kettle kite ladder lamp lantern leaf lemon lily magnet mango meadow mirror mitten needle nest oven
		paddle palace parrot pebble pencil piano pillow planet pocket pond puzzle quilt rabbit radio ribbon river
		rocket saddle sail scarf shell shovel spoon statue stone sunflower table teapot tiger torch tower
		trumpet tulip tunnel umbrella valley violin wagon wallet whistle window wizard yacht zebra`)
	syllables = strings.Fields(`ba be bi bo bu da de di do du fa fe fi fo ka ke ki ko ku la le li lo lu ma
		me mi mo mu na ne ni no nu pa pe pi po pu ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo za zo`)
)

// keyWord draws an adjective-noun key such as "quiet-lantern".
func keyWord(rng *rand.Rand) string {
	return adjectives[rng.IntN(len(adjectives))] + "-" + nouns[rng.IntN(len(nouns))]
}

// uuid draws a random version-4-style UUID.
func uuid(rng *rand.Rand) string {
	var b [16]byte
	for i := range b {
		b[i] = byte(rng.IntN(256))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// number draws a 7-digit number, as RULER's values.
func number(rng *rand.Rand) string { return fmt.Sprint(1000000 + rng.IntN(9000000)) }

// distinct draws n distinct values from draw (which must be able to produce them).
func distinct(rng *rand.Rand, n int, draw func(*rand.Rand) string, avoid map[string]bool) []string {
	seen := map[string]bool{}
	for k := range avoid {
		seen[k] = true
	}
	out := make([]string, 0, n)
	for len(out) < n {
		if s := draw(rng); !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// listWord draws a word of two or three syllables (for the word lists of cwe).
func listWord(rng *rand.Rand) string {
	n := 2 + rng.IntN(2)
	var b strings.Builder
	for range n {
		b.WriteString(syllables[rng.IntN(len(syllables))])
	}
	return b.String()
}

// codedWord draws a short lower-case letter string (the coded words of fwe).
func codedWord(rng *rand.Rand) string {
	b := make([]byte, 3+rng.IntN(3))
	for i := range b {
		b[i] = byte('a' + rng.IntN(26))
	}
	return string(b)
}

// variable draws an upper-case variable name of five letters (vt).
func variable(rng *rand.Rand) string {
	b := make([]byte, 5)
	for i := range b {
		b[i] = byte('A' + rng.IntN(26))
	}
	return string(b)
}
