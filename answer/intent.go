package answer

import "strings"

// Intent cues: what a question asks about its subject.
//
// The certification topic explains what the certification is; other topics
// say how to do it (howto) or how a relative does it for someone (family).
// They all share the subject's words (认证, certification, fe de vida), and
// the what-is topic holds the most of them, so a question that names the
// subject and asks how to do it, what to bring, or whether a son may do it
// for his mother, reached the what-is answer. What tells them apart is the
// question's other words: question words and pronouns ("how", "for me",
// "por mí", 怎么, 替我), which the topic scores cannot see because they are
// stop words, and the helper ("my son", "mi hija", 儿子).
//
// So the matcher looks for cues apart, in the folded question. When the
// question names the subject (a keyword of the what-is topic is found
// whole) and carries a rule's cues (and none of its exceptions), the
// what-is topic's score goes to the rule's topic, and the cue counts as one
// more keyword of that topic found whole. Rules are tried in order; the
// first that applies takes the score. The same is done for the law (who
// must pay) and the payment topic (how to pay).
//
// Cues are written folded: lower case, no accents, simplified characters.
// Latin cues match whole words in sequence, Han cues match anywhere.

// intentRule moves a what-is topic's score to the topic its cues ask for.
type intentRule struct {
	from, to string
	cues     []cue // any of these
	not      []cue // but none of these
	notWhat  bool  // and no what-cue: "what is it and how do I do it" asks what it is
}

// intentRules are tried in order. Family help comes first: "how can my son
// do it for me" is answered by the family-help topic, which says how.
var intentRules = []intentRule{
	{from: "certification", to: "family", cues: proxyCues, not: notProxyCues},
	{from: "certification", to: "status", cues: checkCues},
	{from: "certification", to: "howto", cues: howCues, not: notHowCues, notWhat: true},
	// The law says who pays; how to pay is the payment topic's.
	{from: "law", to: "payment", cues: howCues, not: notHowCues, notWhat: true},
}

// proxyCues say that someone does it for someone else.
var proxyCues = cueList(`
for me|for him|for her|for them|on my behalf|on behalf|instead of me|in my place|for my mother|for my father|for my mom|for my mum|for my dad|for my parents|for my parent|for my grandmother|for my grandfather|for my wife|for my husband
my son|my daughter|my kids|my children|my child|grandson|granddaughter|grandchild|grandchildren
certify my mother|certify my father|certify my mom|certify my mum|certify my dad|certify my parents|certify my parent|certify my grandmother|certify my grandfather|certify my wife|certify my husband
por mi|por el|por ella|por ellos|en nombre de|en mi lugar|en su lugar|mi hijo|mi hija|mis hijos|mis hijas|mi nieto|mi nieta|mis nietos|mis nietas
de mi madre|de mi padre|de mis padres|de mi mama|de mi papa|de mi abuela|de mi abuelo|de mi esposa|de mi marido|a mi madre|a mi padre|a mi mama|a mi papa|a mi abuela|a mi abuelo
替我|替他|替她|帮他|帮她|帮我妈|帮我爸|帮父母|帮爸妈|帮老人|帮家人|替老人|替父母|替家人|代我|代他|代她|代办|代替|儿子|女儿|闺女|孙子|孙女|外孙|子女|孩子
`)

// checkCues ask whether it worked or is still valid.
var checkCues = cueList(`
how do i know|how can i know|how to know|how will i know|how do i check|how can i check|how to check|how do i see|how can i see|how to see|how do i find out|how can i find out
find out if|check if|see if|know if|still valid|already certified|did it work|go through|went through|have i done|did i do|have i certified|did i certify|still pending|is pending
como se si|como se que|como saber|como compruebo|como comprobar|como veo|como puedo ver|como consulto|como consultar|saber si|ver si|comprobar si|ya estoy|todavia vale|sigue valiendo|ya hice|ya me certifique|sigue pendiente|esta pendiente
怎么知道|怎么查|怎么看|如何查|如何知道|去哪查|在哪查|哪里查|在哪看|哪里看|有没有通过|通过没有|过了没|过没过|成功没|成功了没|是否通过|是否成功|还有效|有没有效|完了没|完了吗|上次认证|还在审核|审核中|审核完
`)

// notProxyCues use the same words for something else: "por mi cuenta"
// (on my own), "por el móvil" (by phone).
var notProxyCues = cueList(`
por mi cuenta|por mi mismo|por mi misma|por mi parte|por el movil|por el celular|por el telefono|por el banco|por el app|por el internet
`)

// howCues ask for a procedure, a place or the documents to bring.
var howCues = cueList(`
how do|how to|how can|how does|how should|how would|how i|how will|where do|where can|where to|where should|where is
steps|step by step|procedure|process|documents|document|papers|paperwork|bring|requirements|required|instructions
what do i need|what i need|what do you need|what does it need|which id|what id|what ids|what should i take
como|donde|adonde|pasos|procedimiento|tramite|tramites|documentos|documento|documentacion|papeles|llevar|requisitos
que necesito|que hace falta|que piden|que tengo que
怎么|如何|怎样|咋|在哪|哪里|去哪|步骤|流程|手续|材料|证件|带什么|需要什么|要什么|要带|准备|办理|操作|办法
`)

// notHowCues look like how-cues but ask something else: how often or how
// long (what the certification is), how to know or check (status), how
// it is (small talk).
var notHowCues = cueList(`
how often|how long|how many|how much|how old|how far|how are
how do i know|how can i know|how to know|how will i know|how do i check|how can i check|how to check|how do i see|how can i see|how to see|how do i find out|how can i find out
como se si|como se que|como saber|como compruebo|como comprobar|como veo|como puedo ver|como consulto|como consultar
怎么知道|怎么查|怎么看|怎么样|怎么回事|如何查|如何知道|去哪查|在哪查|哪里查|在哪看|哪里看
`)

// whatCues ask what it is, what it is for, or why.
var whatCues = cueList(`
what is|whats|what does|what for|why|meaning|mean|purpose|what is it
que es|para que|por que|porque|que significa|significa|sirve
什么是|是什么|啥意思|什么意思|是啥|干啥|干什么|为什么|为啥|有什么用|什么用|做什么用
`)

// cue is one folded cue: a sequence of Latin words, or a Han string.
type cue struct {
	words []string
	han   string
}

func cueList(s string) []cue {
	var out []cue
	for _, line := range strings.Split(s, "\n") {
		for _, c := range strings.Split(line, "|") {
			c = strings.TrimSpace(c)
			if c == "" {
				continue
			}
			if isHan(c) {
				out = append(out, cue{han: c})
			} else {
				out = append(out, cue{words: strings.Fields(c)})
			}
		}
	}
	return out
}

// cueText is a question as the cues see it: its Latin words in order, and
// its Han runs joined by a separator.
type cueText struct {
	words []string
	han   string
}

func (t cueText) has(c cue) bool {
	if c.han != "" {
		return strings.Contains(t.han, c.han)
	}
	for i := 0; i+len(c.words) <= len(t.words); i++ {
		match := true
		for j, w := range c.words {
			if t.words[i+j] != w {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}

func (t cueText) any(cs []cue) bool {
	for _, c := range cs {
		if t.has(c) {
			return true
		}
	}
	return false
}

// intentPair is an intentRule by topic index.
type intentPair struct {
	from, to int
	rule     *intentRule
}

// intentPairs is intentRules by topic index.
var intentPairs = func() []intentPair {
	index := make(map[string]int, len(Topics))
	for i, t := range Topics {
		index[t] = i
	}
	out := make([]intentPair, len(intentRules))
	for i := range intentRules {
		r := &intentRules[i]
		fi, ok1 := index[r.from]
		ti, ok2 := index[r.to]
		if !ok1 || !ok2 {
			panic("answer: intent rule names an unknown topic: " + r.from + " -> " + r.to)
		}
		out[i] = intentPair{from: fi, to: ti, rule: r}
	}
	return out
}()

// intent tells, per intent rule (in order), whether a question's cues
// satisfy it.
type intent []bool

// intentOf reads the intent cues of a question's segments.
func intentOf(segs []segment) intent {
	var t cueText
	var han []string
	for _, s := range segs {
		switch s.class {
		case classLatin:
			t.words = append(t.words, s.text)
		case classHan:
			han = append(han, s.text)
		}
	}
	t.han = strings.Join(han, " ")
	what := t.any(whatCues)
	in := make(intent, len(intentRules))
	for i, r := range intentRules {
		in[i] = t.any(r.cues) && !t.any(r.not) && !(r.notWhat && what)
	}
	return in
}

// applyIntent moves the score of a what-is topic to the topic the
// question's cues ask for, when the question names the subject: see the
// comment at the top of this file.
func (sc scores) applyIntent(in intent) {
	for i, p := range intentPairs {
		if !in[i] || sc.whole[p.from] == 0 {
			continue
		}
		sc.s[p.to] += sc.s[p.from] + intentBonus
		sc.whole[p.to] += sc.whole[p.from] + 1
		sc.s[p.from], sc.whole[p.from] = 0, 0
	}
}
