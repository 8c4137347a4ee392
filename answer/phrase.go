package answer

import "strings"

// Latin phrases: the concept surfaces (concepts.go) and intent cues
// (intent.go) written in Latin letters, as they are looked for in a
// question.
//
// There are hundreds of them, and trying every one at every word of a
// question made reading the question cost far more than scoring it. So
// phrases are parsed once, and indexed by how they start: at each word of
// a question only the few phrases that can start there are tried.

// latinPhrase is a sequence of folded Latin words that must follow each
// other. A word written with a trailing "*" matches any word that starts
// so: "stop*" matches stop, stops, stopped.
type latinPhrase struct {
	words  []string // the words, the "*" removed
	prefix []bool   // per word: it was written with a trailing "*"
}

// newLatinPhrase parses the words of a phrase. A lone "*" is refused:
// concepts used to read it as any word, cues as the word "*", and no
// phrase needs either.
func newLatinPhrase(words []string) latinPhrase {
	p := latinPhrase{words: make([]string, len(words)), prefix: make([]bool, len(words))}
	for i, w := range words {
		if w == "*" {
			panic("answer: a lone * in the phrase " + strings.Join(words, " "))
		}
		p.words[i], p.prefix[i] = strings.CutSuffix(w, "*")
	}
	return p
}

// matchAt reports whether the words ws start with the phrase.
func (p latinPhrase) matchAt(ws []string) bool {
	if len(ws) < len(p.words) {
		return false
	}
	for i, w := range p.words {
		if p.prefix[i] {
			if !strings.HasPrefix(ws[i], w) {
				return false
			}
		} else if ws[i] != w {
			return false
		}
	}
	return true
}

// latinIndex finds the phrases that can start at a word of a question.
// The caller numbers its phrases (their position in its own list) and adds
// them in that order, so every list of numbers here is ascending.
type latinIndex struct {
	whole  map[string][]int // phrases whose first word is whole, by that word
	prefix map[byte][]int   // phrases whose first word ends in "*", by its first byte
}

func newLatinIndex() latinIndex {
	return latinIndex{whole: make(map[string][]int), prefix: make(map[byte][]int)}
}

// add adds phrase number n, which must be higher than any added before.
func (x latinIndex) add(n int, p latinPhrase) {
	if len(p.words) == 0 {
		panic("answer: an empty phrase")
	}
	if first := p.words[0]; p.prefix[0] {
		x.prefix[first[0]] = append(x.prefix[first[0]], n)
	} else {
		x.whole[first] = append(x.whole[first], n)
	}
}

// candidates returns, in two ascending lists, the numbers of the phrases
// that can start at the (non-empty) word w: those whose first word is w,
// and those whose first word is a prefix with w's first byte (a word
// starts so only if its first byte is the prefix's). Only these can match
// there; the caller tries them with matchAt.
func (x latinIndex) candidates(w string) (whole, prefix []int) {
	return x.whole[w], x.prefix[w[0]]
}
