package answer

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/nicksnyder/go-i18n/v2/i18n"

	"pensionbot/flows"
)

var _ flows.Answerer = (*FAQ)(nil)

// Matcher tuning. Scores add the inverse topic frequency of every feature
// the question shares with a topic (ln(N/df): a feature found in one topic of
// 14 weighs 2.6, one found in every topic weighs 0), plus a bonus for every
// keyword of the topic found whole in the question.
const (
	// minScore is what the best topic needs to be answered, together with
	// at least one of its keywords found whole. One distinctive keyword
	// found whole passes (2.6 + 1); one distinctive bigram or word that is
	// only part of a keyword does not (2.6). Scattered features without any
	// whole keyword need sureScore: "new SIM card" shares two rare words
	// with the card topic, but no keyword.
	minScore = 3.2
	// sureScore ends the search after the person's own language.
	sureScore = 2 * minScore
	// kwBonus is added per keyword found whole, plus kwBonusPerFeature for
	// each further feature of a longer keyword.
	kwBonus           = 1.0
	kwBonusPerFeature = 0.5
	// intentBonus is added to a topic that an intent cue sends a question
	// to (see intent.go): a cue is as telling as a keyword of two words.
	intentBonus = kwBonus + kwBonusPerFeature
	// exactBonus is added when the question has one content word (or
	// bigram) and it is a keyword of the topic by itself.
	exactBonus = 2.0
	// qWeight is the weight of a feature found only in a topic's canonical
	// question, not in its keywords.
	qWeight = 0.5
	// conceptWeight is the weight of a concept feature (see concepts.go):
	// a concept is broader than any of its words.
	conceptWeight = 0.5
	// maxConceptTopics is how many topics a concept may be held by and
	// still be a keyword by itself.
	maxConceptTopics = 1
	// maxQuestionRunes bounds the work done on one question.
	maxQuestionRunes = 400
	// minFuzzyLen is the shortest Latin word that typo tolerance applies to.
	minFuzzyLen = 5
	// minSubstLen is the shortest Latin word in which a substituted letter
	// counts as a typo.
	minSubstLen = 7
)

// MessageID returns the locale message ID of part ("q", "a" or "kw") of a topic.
func MessageID(topic, part string) string { return "faq." + topic + "." + part }

// NoMatchMessageID is the message to show when no topic matches.
const NoMatchMessageID = "faq.nomatch"

// FAQ answers questions offline by matching them against the faq.* messages:
// the canonical question and the keyword list of every topic, in every
// language. It works on Chinese without word splitting (character bigrams),
// folds case, width, accents and traditional characters, tolerates one typo
// in longer Latin words, and answers no topic when nothing matches well.
// A FAQ is immutable after NewFAQ and safe for concurrent use.
type FAQ struct {
	langs []string
	index map[string]*langIndex
}

// langIndex is the matcher's view of one language.
type langIndex struct {
	lang     string
	script   string                // "han" or "latin": languages of one script share features
	postings map[string][]posting  // feature → topics that have it, ascending
	idf      map[string]float64    // feature → ln(N/df)
	keywords []keyword             // every keyword of every topic
	kwFirst  map[string][]int      // first feature of a keyword → keyword indices
	vocab    map[int][]wordForTypo // Latin words of 5+ letters, by length in runes
	known    map[string]bool       // stems of vocab words, for a quick "no typo" check
	wordKw   map[string][]int      // feature → topics that have it as a keyword by itself
}

type posting struct {
	topic  int
	weight float64
}

type keyword struct {
	topic    int
	feats    []string // content features first, then stop features
	nContent int
	bonus    float64
}

type wordForTypo struct {
	runes []rune
	stem  string
}

// NewFAQ reads the faq.* messages of every language in langs from b and
// builds the matcher. It fails when a language lacks any faq.T.q, faq.T.a or
// faq.T.kw message (or faq.nomatch): a missing translation would otherwise
// show the default language's text.
func NewFAQ(b *i18n.Bundle, langs []string) (*FAQ, error) {
	if b == nil {
		return nil, errors.New("answer: NewFAQ: nil bundle")
	}
	if len(langs) == 0 {
		return nil, errors.New("answer: NewFAQ: no languages")
	}
	f := &FAQ{langs: append([]string(nil), langs...), index: make(map[string]*langIndex, len(langs))}
	for _, lang := range langs {
		if _, dup := f.index[lang]; dup {
			return nil, fmt.Errorf("answer: NewFAQ: language %q listed twice", lang)
		}
		texts, err := faqTexts(b, lang)
		if err != nil {
			return nil, err
		}
		f.index[lang] = buildIndex(lang, texts)
	}
	return f, nil
}

type topicTexts struct{ q, kw string }

// faqTexts reads, for one language, the question and keywords of every topic
// and checks that the answers and faq.nomatch exist too.
func faqTexts(b *i18n.Bundle, lang string) ([]topicTexts, error) {
	loc := i18n.NewLocalizer(b, lang)
	out := make([]topicTexts, len(Topics))
	for i, t := range Topics {
		q, err := exactMessage(loc, lang, MessageID(t, "q"), nil)
		if err != nil {
			return nil, err
		}
		if _, err := exactMessage(loc, lang, MessageID(t, "a"), nil); err != nil {
			return nil, err
		}
		kw, err := exactMessage(loc, lang, MessageID(t, "kw"), nil)
		if err != nil {
			return nil, err
		}
		out[i] = topicTexts{q: q, kw: kw}
	}
	if _, err := exactMessage(loc, lang, NoMatchMessageID, nil); err != nil {
		return nil, err
	}
	return out, nil
}

// exactMessage renders message id in exactly lang: unlike Localize alone, it
// fails when the text would come from another language.
func exactMessage(loc *i18n.Localizer, lang, id string, data any) (string, error) {
	s, tag, err := loc.LocalizeWithTag(&i18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil {
		return "", fmt.Errorf("answer: message %s in %s: %w", id, lang, err)
	}
	if tag.String() != lang {
		return "", fmt.Errorf("answer: message %s: language %s is not loaded (got %s)", id, lang, tag)
	}
	if strings.TrimSpace(s) == "" {
		return "", fmt.Errorf("answer: message %s in %s is empty", id, lang)
	}
	return s, nil
}

func scriptOf(lang string) string {
	if strings.HasPrefix(lang, "zh") {
		return "han"
	}
	return "latin"
}

func buildIndex(lang string, texts []topicTexts) *langIndex {
	ix := &langIndex{
		lang:     lang,
		script:   scriptOf(lang),
		postings: make(map[string][]posting),
		idf:      make(map[string]float64),
		kwFirst:  make(map[string][]int),
		vocab:    make(map[int][]wordForTypo),
		known:    make(map[string]bool),
		wordKw:   make(map[string][]int),
	}
	vocab := make(map[string]bool)
	df := make(map[string]float64) // topics having a feature, weighted
	var single []pendingKey        // concepts of each topic's keywords
	for ti, tt := range texts {
		// Features of the keywords weigh 1; features found only in the
		// canonical question weigh qWeight (questions are full sentences
		// with generic words; keywords are chosen).
		weight := make(map[string]float64)
		var order []string
		add := func(feats []string, w float64) {
			for _, f := range feats {
				old, ok := weight[f]
				if !ok {
					order = append(order, f)
				}
				if w > old {
					weight[f] = w
				}
			}
		}
		seen := make(map[string]bool) // keywords that reduce to the same features count once
		for _, k := range strings.Split(tt.kw, "|") {
			kf, kw := textFeatures(k, lang)
			kf = dedupe(kf)
			content := contentOf(kf)
			collectVocab(vocab, kw)
			if len(content) == 0 {
				continue // only stop words: nothing to tell topics apart
			}
			sig := strings.Join(sortedCopy(kf), "\x00")
			if seen[sig] {
				continue
			}
			seen[sig] = true
			add(content, 1)
			ix.addKeyword(ti, content, kf, len(content))
			// The concept form of the keyword (see concepts.go).
			cf, concepts := conceptFeatures(k, lang)
			if len(concepts) == 0 {
				continue
			}
			cf = dedupe(cf)
			add(concepts, conceptWeight)
			cc := contentOf(cf)
			csig := strings.Join(sortedCopy(cf), "\x00")
			for _, c := range concepts {
				if conceptAlone[strings.TrimPrefix(c, conceptMark)] {
					single = append(single, pendingKey{ti, c})
				}
			}
			if len(cc) < 2 || seen[csig] {
				continue
			}
			seen[csig] = true
			ix.addKeyword(ti, cc, cf, len(content))
		}
		qf, qw := textFeatures(tt.q, lang)
		add(contentOf(qf), qWeight)
		if _, qc := conceptFeatures(tt.q, lang); len(qc) > 0 {
			add(qc, qWeight*conceptWeight)
		}
		collectVocab(vocab, qw)
		for _, f := range order {
			ix.postings[f] = append(ix.postings[f], posting{topic: ti, weight: weight[f]})
			df[f] += weight[f]
		}
	}
	n := float64(len(texts))
	for f, d := range df {
		ix.idf[f] = math.Log(n / d)
	}
	// A concept alone is a keyword where it is specific: held by the
	// keywords of at most maxConceptTopics topics (and by no canonical
	// question of another).
	added := make(map[pendingKey]bool)
	for _, k := range single {
		if !added[k] && df[k.concept] <= maxConceptTopics*conceptWeight+1e-9 {
			added[k] = true
			ix.addKeyword(k.topic, []string{k.concept}, nil, 1)
		}
	}
	for i, k := range ix.keywords {
		ix.kwFirst[k.feats[0]] = append(ix.kwFirst[k.feats[0]], i)
		if len(k.feats) == 1 && !isConcept(k.feats[0]) {
			ix.wordKw[k.feats[0]] = append(ix.wordKw[k.feats[0]], k.topic)
		}
	}
	words := make([]string, 0, len(vocab))
	for w := range vocab {
		words = append(words, w)
	}
	sort.Strings(words) // deterministic choice among equally close words
	for _, w := range words {
		rs := []rune(w)
		ix.vocab[len(rs)] = append(ix.vocab[len(rs)], wordForTypo{runes: rs, stem: stem(w, lang)})
		ix.known[stem(w, lang)] = true
	}
	return ix
}

type pendingKey struct {
	topic   int
	concept string
}

// addKeyword adds a keyword of topic ti: its content features (the first
// leads: it is the one looked up), then the stop features of all, with the
// bonus of a keyword of n content words.
func (ix *langIndex) addKeyword(ti int, content, all []string, n int) {
	ordered := append(append([]string(nil), content...), stopsOf(all)...)
	ix.keywords = append(ix.keywords, keyword{
		topic:    ti,
		feats:    ordered,
		nContent: len(content),
		bonus:    kwBonus + kwBonusPerFeature*float64(n-1),
	})
}

func collectVocab(vocab map[string]bool, words []string) {
	for _, w := range words {
		if utf8.RuneCountInString(w) >= minFuzzyLen {
			vocab[w] = true
		}
	}
}

func sortedCopy(fs []string) []string {
	c := append([]string(nil), fs...)
	sort.Strings(c)
	return c
}

func dedupe(fs []string) []string {
	out := fs[:0]
	for i, f := range fs {
		dup := false
		for _, g := range fs[:i] {
			if g == f {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, f)
		}
	}
	return out
}

// Stop words and stop bigrams are kept as features marked with stopMark:
// they score nothing, but a keyword that contains them ("for my mother",
// "怎么认证") is only found whole when the question has them too.
const stopMark = "~"

func isStop(f string) bool { return strings.HasPrefix(f, stopMark) }

func isHan(f string) bool {
	r, _ := utf8.DecodeRuneInString(f)
	return classOf(r) == classHan
}

func contentOf(fs []string) []string {
	var out []string
	for _, f := range fs {
		if !isStop(f) {
			out = append(out, f)
		}
	}
	return out
}

func stopsOf(fs []string) []string {
	var out []string
	for _, f := range fs {
		if isStop(f) {
			out = append(out, f)
		}
	}
	return out
}

// textFeatures folds s and returns its features (stop features marked), and
// its Latin content words (folded, not stemmed) for typo handling.
func textFeatures(s, lang string) (feats, words []string) {
	for _, seg := range segments(fold(s)) {
		switch seg.class {
		case classHan:
			feats = hanFeatures(feats, seg.text)
		case classDigit:
			feats = append(feats, digitFeature(seg.text))
		case classLatin:
			if stopWordsFor(lang)[seg.text] {
				feats = append(feats, stopMark+seg.text)
				continue
			}
			words = append(words, seg.text)
			feats = append(feats, stem(seg.text, lang))
		}
	}
	return feats, words
}

// query is a question prepared once and scored against several languages.
type query struct {
	fixed []string // Han and digit features: the same for every language
	words []string // folded Latin words: stop words and corrections differ per language
	in    intent   // what the question asks for: see intent.go
	// covers holds, per concept feature, the question's words or Han
	// surfaces that stand for it.
	covers map[string][]segment
	han    bool // the question has Han features
}

func newQuery(question string) query {
	if utf8.RuneCountInString(question) > maxQuestionRunes {
		rs := []rune(question)
		question = string(rs[:maxQuestionRunes])
	}
	var q query
	segs := segments(fold(question))
	q.in = intentOf(segs)
	for _, seg := range segs {
		switch seg.class {
		case classHan:
			q.fixed = hanFeatures(q.fixed, seg.text)
		case classDigit:
			q.fixed = append(q.fixed, digitFeature(seg.text))
		case classLatin:
			q.words = append(q.words, seg.text)
		}
	}
	_, concepts, covers := scanConcepts(segs, "", false)
	q.covers = covers
	for _, f := range q.fixed {
		if isHan(f) {
			q.han = true
			break
		}
	}
	q.fixed = dedupe(append(q.fixed, concepts...))
	return q
}

// empty reports whether the question has nothing but stop words.
func (q query) empty() bool {
	for _, w := range q.words {
		if !isStopAnywhere(w) {
			return false
		}
	}
	for _, f := range q.fixed {
		if !isStop(f) {
			return false
		}
	}
	return true
}

// correct returns the feature for a Latin word of the question: its stem
// when the index knows it, else the stem of the one index word that is a
// single edit away (words of 5+ letters only), else its own stem.
//
// Short words are corrected more strictly: below minSubstLen letters a
// substitution is not a typo but often another word (price/prize,
// precio/premio, lose/love), so only a missing, extra or swapped letter is
// accepted, and the first letter must match.
func (ix *langIndex) correct(w string) string {
	st := stem(w, ix.lang)
	if ix.known[st] || ix.postings[st] != nil {
		return st
	}
	rs := []rune(w)
	if len(rs) < minFuzzyLen {
		return st
	}
	short := len(rs) < minSubstLen
	for n := len(rs) - 1; n <= len(rs)+1; n++ {
		for _, v := range ix.vocab[n] {
			if short && (v.runes[0] != rs[0] || n == len(rs) && !transposed(rs, v.runes)) {
				continue
			}
			if osa1(rs, v.runes) {
				return v.stem
			}
		}
	}
	return st
}

// scores holds, per topic, the score of a question and how many of the
// topic's keywords were found whole.
type scores struct {
	s     []float64
	whole []int
}

func newScores() scores {
	return scores{s: make([]float64, len(Topics)), whole: make([]int, len(Topics))}
}

func (sc scores) reset() {
	for i := range sc.s {
		sc.s[i], sc.whole[i] = 0, 0
	}
}

// score adds the question's score for every topic to sc. With hanOnly, only
// Han features count: when languages of both scripts are added up, the
// Latin words and digits that the Chinese keyword lists also hold (app,
// 12333) are counted once, by the Latin-script languages.
func (ix *langIndex) score(q query, sc scores, hanOnly bool) {
	feats := make([]string, 0, len(q.fixed)+len(q.words))
	feats = append(feats, q.fixed...)
	stops := stopWordsFor(ix.lang)
	for _, w := range q.words {
		if stops[w] {
			feats = append(feats, stopMark+w)
		} else {
			feats = append(feats, ix.correct(w))
		}
	}
	feats = dedupe(feats)
	// A concept counts once, in the script of the question (when both
	// scripts are added up), and not for a topic that has one of the
	// words the concept stands for as a keyword by itself: the concept
	// adds what the words alone do not meet.
	useConcepts := (ix.script == "han") == q.han
	held := make(map[string]map[int]bool) // concept → topics with one of its words as a keyword
	for c, segs := range q.covers {
		m := make(map[int]bool)
		for _, sg := range segs {
			var fs []string
			if sg.class == classHan {
				fs = hanFeatures(nil, sg.text)
			} else {
				fs = []string{ix.correct(sg.text)}
			}
			for _, f := range fs {
				for _, t := range ix.wordKw[f] {
					m[t] = true
				}
			}
		}
		held[c] = m
	}
	has := func(f string) bool {
		for _, g := range feats {
			if g == f {
				return true
			}
		}
		return false
	}
	nq := 0 // content features of the question that count here
	skip := func(f string) bool {
		if isConcept(f) {
			return !useConcepts
		}
		return isStop(f) || hanOnly && !isHan(f)
	}
	for _, f := range feats {
		if !skip(f) && !isConcept(f) {
			nq++
		}
	}
	for _, f := range feats {
		if skip(f) {
			continue
		}
		idf := ix.idf[f]
		for _, p := range ix.postings[f] {
			if isConcept(f) && held[f][p.topic] {
				continue
			}
			sc.s[p.topic] += idf * p.weight
		}
	}
	for _, f := range feats {
		if skip(f) {
			continue
		}
		for _, ki := range ix.kwFirst[f] {
			k := ix.keywords[ki]
			if len(k.feats) == 1 && isConcept(f) && held[f][k.topic] {
				continue // a concept alone, where its word already counts
			}
			whole := true
			for _, g := range k.feats[1:] {
				if !has(g) {
					whole = false
					break
				}
			}
			if whole {
				sc.s[k.topic] += k.bonus
				sc.whole[k.topic]++
				if nq == 1 && k.nContent == 1 {
					// A one-word question that is a keyword ("认证",
					// "certification", "I want to certify"): clear even
					// when the word is common to several topics.
					sc.s[k.topic] += exactBonus
				}
			}
		}
	}
}

// best returns the best topic that passes: at least min with a keyword
// found whole, or at least sureScore from scattered features alone. Ties go
// to the topic with more keywords found whole, then to the earlier topic.
// It returns -1 when no topic passes, or when the top-scoring topic does not
// pass (a weaker topic does not overtake it), and the best score seen.
func (sc scores) best(min float64) (int, float64) {
	bi, bs := -1, 0.0
	top := 0.0
	for i, s := range sc.s {
		if s > top {
			top = s
		}
		better := s > bs+1e-9 || bi >= 0 && s > bs-1e-9 && sc.whole[i] > sc.whole[bi]
		if !better {
			continue
		}
		if s >= sureScore || s >= min && sc.whole[i] > 0 {
			bi, bs = i, s
		}
	}
	if bi < 0 {
		return -1, top
	}
	if bs < top {
		return -1, top
	}
	return bi, bs
}

// Match returns the best topic for question and its score, or "" when no
// topic passes. It searches the person's language first and stops there
// when the answer is clear (sureScore with a keyword found whole);
// otherwise it scores every language, taking per script the best language's
// score for each topic and adding the scripts, so that a question mixing
// Chinese and English counts both halves.
func (f *FAQ) Match(lang, question string) (string, float64) {
	q := newQuery(question)
	if q.empty() {
		return "", 0
	}
	sc := newScores()
	if own := f.index[lang]; own != nil {
		own.score(q, sc, false)
		sc.applyIntent(q.in)
		if i, s := sc.best(sureScore); i >= 0 && sc.whole[i] > 0 {
			return Topics[i], s
		}
	}
	byScript := map[string]scores{}
	var scripts []string
	for _, l := range f.langs {
		ix := f.index[l]
		sc.reset()
		ix.score(q, sc, ix.script == "han")
		acc, ok := byScript[ix.script]
		if !ok {
			acc = newScores()
			byScript[ix.script] = acc
			scripts = append(scripts, ix.script)
		}
		for i, s := range sc.s {
			if s > acc.s[i] {
				acc.s[i], acc.whole[i] = s, sc.whole[i]
			}
		}
	}
	total := newScores()
	for _, name := range scripts {
		acc := byScript[name]
		for i := range acc.s {
			total.s[i] += acc.s[i]
			total.whole[i] += acc.whole[i]
		}
	}
	total.applyIntent(q.in)
	i, s := total.best(minScore)
	if i < 0 {
		return "", s
	}
	return Topics[i], s
}

// Answer returns the best topic's answer message (faq.T.a), or Answer{} when
// no topic matches well. It never fails: the FAQ is the answerer of last
// resort.
func (f *FAQ) Answer(_ context.Context, lang, question string) (flows.Answer, error) {
	topic, _ := f.Match(lang, question)
	if topic == "" {
		return flows.Answer{}, nil
	}
	return flows.Answer{Topic: topic, MessageID: MessageID(topic, "a")}, nil
}

// Languages returns the languages the FAQ was built for.
func (f *FAQ) Languages() []string { return append([]string(nil), f.langs...) }
