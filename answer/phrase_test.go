package answer

import (
	"fmt"
	"math/rand"
	"reflect"
	"strings"
	"testing"
)

// The concept surfaces and intent cues are indexed by how they start
// (phrase.go) so that a question is read quickly. These tests check that
// the indexes find what trying every surface or cue in turn finds.

// phraseTestWords returns word sequences to try: the questions of the test
// tables, and random runs of the surfaces' and cues' own words, whole, cut
// and extended, so that prefixes ("stop*") and phrases of several words
// meet.
func phraseTestWords() [][]string {
	var out [][]string
	var vocab []string
	for _, set := range [][]phrasing{realPhrasings, offTopic, tuningPhrasings, tuningPhrasings4, heldOut, heldOut2, heldOut3} {
		for _, p := range set {
			var ws []string
			for _, s := range segments(fold(p.question)) {
				if s.class == classLatin {
					ws = append(ws, s.text)
				}
			}
			out = append(out, ws)
			vocab = append(vocab, ws...)
		}
	}
	addWords := func(p latinPhrase) {
		for _, w := range p.words {
			vocab = append(vocab, w, w+"ed", w+"s")
			if len(w) > 1 {
				vocab = append(vocab, w[:len(w)-1])
			}
		}
	}
	for _, cs := range latinSurfaces {
		addWords(cs.latin)
	}
	for _, c := range intentCues.cues {
		if c.han == "" {
			addWords(c.latin)
		}
	}
	rng := rand.New(rand.NewSource(1))
	for n := 0; n < 20000; n++ {
		ws := make([]string, 1+rng.Intn(6))
		for i := range ws {
			ws[i] = vocab[rng.Intn(len(vocab))]
		}
		out = append(out, ws)
	}
	return out
}

// firstLatinSurface is latinSurfaceAt without the index.
func firstLatinSurface(ws []string) (conceptSurface, bool) {
	for _, cs := range latinSurfaces {
		if cs.latin.matchAt(ws) {
			return cs, true
		}
	}
	return conceptSurface{}, false
}

func checkLatinSurfaces(t *testing.T, wss [][]string) {
	t.Helper()
	for _, ws := range wss {
		for i := range ws {
			got, ok := latinSurfaceAt(ws[i:])
			want, wantOK := firstLatinSurface(ws[i:])
			if ok != wantOK || !reflect.DeepEqual(got, want) {
				t.Fatalf("%q: latinSurfaceAt gives %v %v, every surface in turn %v %v", ws[i:], got, ok, want, wantOK)
			}
		}
	}
}

func TestLatinSurfaceIndex(t *testing.T) {
	checkLatinSurfaces(t, phraseTestWords())
}

// TestLatinSurfaceIndexOrder checks the order of surfaces that start
// alike, whole or as a prefix: the real ones hardly do (fraude, fraud*).
func TestLatinSurfaceIndexOrder(t *testing.T) {
	saved, savedIndex := latinSurfaces, latinByFirst
	defer func() { latinSurfaces, latinByFirst = saved, savedIndex }()
	latinSurfaces, latinByFirst = nil, newLatinIndex()
	for i, tok := range strings.Fields(`ab* abc abc_d a* abcd* x_y* ab_c* b bc* b_c abc_de* abcde ab_cd a_b_c* zz`) {
		latinSurfaces = append(latinSurfaces, conceptSurface{concept: fmt.Sprint(i), latin: newLatinPhrase(strings.Split(tok, "_"))})
	}
	sortSurfaces(latinSurfaces, func(s conceptSurface) int { return len(s.latin.words) })
	for i, cs := range latinSurfaces {
		latinByFirst.add(i, cs.latin)
	}
	words := strings.Fields(`a ab abc abcd abcde abcdef b bc bcd c cd d de x xy y z zz`)
	rng := rand.New(rand.NewSource(1))
	var wss [][]string
	for n := 0; n < 20000; n++ {
		ws := make([]string, 1+rng.Intn(4))
		for i := range ws {
			ws[i] = words[rng.Intn(len(words))]
		}
		wss = append(wss, ws)
	}
	checkLatinSurfaces(t, wss)
}

func TestHanSurfaceIndex(t *testing.T) {
	texts := []string{strings.Repeat("认证", 3)}
	for _, set := range [][]phrasing{realPhrasings, offTopic, tuningPhrasings, tuningPhrasings4, heldOut, heldOut2, heldOut3} {
		for _, p := range set {
			for _, s := range segments(fold(p.question)) {
				if s.class == classHan {
					texts = append(texts, s.text)
				}
			}
		}
	}
	// Every surface, and two surfaces run together.
	for i, cs := range hanSurfaces {
		texts = append(texts, cs.han, cs.han+hanSurfaces[(i*7)%len(hanSurfaces)].han)
	}
	for _, text := range texts {
		for i := range text { // at every character
			got, ok := hanSurfaceAt(text[i:])
			want, wantOK := conceptSurface{}, false
			for _, cs := range hanSurfaces {
				if strings.HasPrefix(text[i:], cs.han) {
					want, wantOK = cs, true
					break
				}
			}
			if ok != wantOK || !reflect.DeepEqual(got, want) {
				t.Fatalf("%q: hanSurfaceAt gives %v %v, every surface in turn %v %v", text[i:], got, ok, want, wantOK)
			}
		}
	}
}

func TestCueIndex(t *testing.T) {
	var texts []cueText
	for _, ws := range phraseTestWords() {
		texts = append(texts, cueText{words: ws})
	}
	for _, set := range [][]phrasing{realPhrasings, offTopic, tuningPhrasings, tuningPhrasings4, heldOut, heldOut2, heldOut3} {
		for _, p := range set {
			var han []string
			for _, s := range segments(fold(p.question)) {
				if s.class == classHan {
					han = append(han, s.text)
				}
			}
			texts = append(texts, cueText{han: strings.Join(han, " ")})
		}
	}
	for _, c := range intentCues.cues {
		if c.han != "" {
			texts = append(texts, cueText{han: "在" + c.han + " " + c.han})
		}
	}
	for _, text := range texts {
		// Every cue tried at every word, and Han cues anywhere.
		want := make([]bool, intentCues.lists)
		for _, c := range intentCues.cues {
			if c.han != "" {
				want[c.list] = want[c.list] || strings.Contains(text.han, c.han)
				continue
			}
			for i := range text.words {
				want[c.list] = want[c.list] || c.latin.matchAt(text.words[i:])
			}
		}
		if got := intentCues.find(text); !reflect.DeepEqual(got, want) {
			t.Fatalf("%+v: find gives %v, every cue in turn %v", text, got, want)
		}
	}
}
