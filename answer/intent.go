package answer

import (
	"strings"
	"unicode/utf8"
)

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
	strong   []cue // or any of these, what-cue or not
}

// intentRules are tried in order. Family help comes first: "how can my son
// do it for me" is answered by the family-help topic, which says how.
//
// Round 3 added rules on what a question asks beyond its subject: what
// happens if one does not certify (late), where or by what channel
// (howto, even after a what-cue when it asks for steps or documents),
// whether one must certify again (status), whether an employer must pay
// (law), what is done with one's data (privacy), and requests for money
// or codes (scam).
var intentRules = []intentRule{
	{from: "certification", to: "family", cues: proxyCues, not: notProxyCues},
	{from: "certification", to: "late", cues: consequenceCues},
	{from: "certification", to: "status", cues: checkCues},
	{from: "certification", to: "howto", cues: howCues, not: notHowCues, notWhat: true, strong: strongHowCues},
	{from: "certification", to: "howto", cues: channelCues, not: notHowCues},
	// Who must pay is the law's, even when the question asks how.
	{from: "payment", to: "law", cues: employerCues, not: selfPayCues},
	// The law says who pays; how to pay is the payment topic's.
	{from: "law", to: "payment", cues: howCues, not: append(append([]cue(nil), notHowCues...), employerCues...), notWhat: true},
	// Where or how to get the card is the card's, unless it is about
	// certifying (the electronic card is a channel).
	{from: "howto", to: "card", cues: cardCues, not: certifyCues},
	{from: "face", to: "privacy", cues: dataCues},
	{from: "howto", to: "privacy", cues: dataCues},
	{from: "howto", to: "scam", cues: moneyAskCues},
	{from: "certification", to: "scam", cues: moneyAskCues},
	// The person's condition decides between a relative's help, the
	// how-to and the home visit or green channel: "my father is blind",
	// "mi madre está en el hospital, ¿cómo hace la fe de vida?".
	{from: "family", to: "homevisit", cues: conceptCues("immobile", "visit")},
	{from: "howto", to: "homevisit", cues: conceptCues("immobile", "visit")},
	{from: "certification", to: "homevisit", cues: conceptCues("immobile", "visit")},
	{from: "family", to: "priority", cues: conceptCues("disabled", "queue")},
	{from: "howto", to: "priority", cues: conceptCues("disabled", "queue")},
	{from: "certification", to: "priority", cues: conceptCues("disabled", "queue")},
}

// consequenceCues ask what follows from not certifying.
var consequenceCues = cueList(`
what happens if|what if i dont|what if i do not|what if i forget|if i dont|if i do not|if i forget|if i miss|what happens when i dont
que pasa si|que ocurre si|que sucede si|si no certifico|si no hago|si no me certifico|si me olvido
会怎么样|会怎样|会咋样|后果|不认证|没认证|没有认证|不去认证|没去认证|忘了认证|忘记认证|不做认证|没做认证
`)

// strongHowCues ask for steps, documents or the channel to use even after
// a what-cue: "what are the steps", "which app".
var strongHowCues = cueList(`
steps|step by step|first step|what documents|which documents|which app|what app|which papers|what papers
pasos|que documentos|que papeles|que aplicacion|cual aplicacion|que app|primer paso
步骤|第一步|流程|什么材料|哪些材料|什么证件|哪个app|什么app|哪个软件|什么软件
`)

// channelCues name where or by what means one certifies.
var channelCues = cueList(`
at the bank|at a bank|in the bank|by the bank|at the office|an office|the office|in person|on the phone|on my phone|by phone|online|on the internet|with the app|in the app|on the app|on my computer
en el banco|por el banco|en la oficina|una oficina|en persona|por el movil|por el celular|desde el movil|desde el celular|por internet|en linea|con la aplicacion|en la aplicacion|por telefono
银行|窗口|社保局|社保中心|社区|营业厅|柜台|本人去|亲自去|要本人|本人到场|手机上|网上|微信上|支付宝上|电脑上
`)

// employerCues name an employer: who must pay is then the law's question.
var employerCues = cueList(`
employer|employers|my company|the company|my boss|the boss|my firm
empresa|empresas|mi jefe|el jefe|patron|patrono|empleador
公司|单位|老板|雇主|企业|厂里
`)

// selfPayCues say the person pays for themselves.
var selfPayCues = cueList(`
myself|my own|self employed|self-employed|freelance|on my own|by myself
yo mismo|yo misma|por mi cuenta|autonomo|autonoma|por libre
no employer|no company|without an employer|without a company|left my job|lost my job|no job|unemployed
no tengo empresa|sin empresa|sin trabajo|no tengo trabajo|me quede sin|desempleado|parado
自己交|自己缴|个人交|个人缴|灵活就业|自由职业|个体|没单位|没有单位|没公司|没有公司|没工作|没有工作|离职|辞职|下岗|失业
`)

// cardCues name the social-security card.
var cardCues = cueList(`
social security card|social-security card|social insurance card|ss card|insurance card
tarjeta de la seguridad social|tarjeta sanitaria|tarjeta del seguro|tarjeta de seguridad social
社保卡|社会保障卡|医保卡
`)

// certifyCues name the certification itself.
var certifyCues = cueList(`
certify|certified|certification|certifying|verification|proof of life|life certificate
certificar|certificacion|certifico|fe de vida|supervivencia
认证|年审|年检|电子社保卡
`)

// dataCues ask what is done with the person's data or photos.
var dataCues = cueList(`
store|stored|save|saved|keep my|keep the|delete|deleted|share|shared|privacy|my data|who can see|who sees
guardan|guardar|guardais|borran|borrar|comparten|compartir|privacidad|mis datos|quien ve
存|保存|保留|删除|泄露|隐私|个资|给别人|谁能看|谁看
`)

// moneyAskCues report someone asking for money, a fee or a code.
var moneyAskCues = cueList(`
a fee|fees|charge me|charges me|wants money|asks for money|asked for money|ask for money|send money|transfer money|my pin|bank pin|sms code|password
comision|me cobran|cobrar una|pide dinero|piden dinero|pidieron dinero|transferir|transferencia|contrasena|clave del banco|codigo
收费|手续费|要钱|转账|汇款|验证码|密码|打钱|交钱
`)

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
do i still need|do i still have to|still need to certify|do i need to certify again|have to certify again
todavia tengo que|aun tengo que|tengo que volver|hay que volver
when does|when will|when is my|when do i have to|run out|runs out|cuando caduca|cuando vence|cuando se vence|cuando tengo que
什么时候到期|什么时候过期|哪天到期|何时到期|啥时候到期|到什么时候
还用认证|还用不用|还需要认证|还要认证|还得认证|还要不要认证|还用再|还要再认证|又要认证
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

// conceptCues returns the surfaces of the named concepts (concepts.go) as
// cues.
func conceptCues(names ...string) []cue {
	var out []cue
	for _, d := range conceptDefs {
		for _, n := range names {
			if d.name != n {
				continue
			}
			for _, tok := range strings.Fields(d.surfaces) {
				if isHan(tok) {
					out = append(out, cue{han: tok})
				} else {
					out = append(out, cue{words: strings.Split(tok, "_")})
				}
			}
		}
	}
	return out
}

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

// cueIndex holds numbered cue lists ready to match, indexed so that a
// question is read once for all of them: at each word (or Han character)
// only the cues that start with it are tried. There are over a thousand
// cues in all; trying each at every word cost more than scoring the
// question.
type cueIndex struct {
	lists int          // how many lists were added
	cues  []indexedCue // the cues of all lists
	latin latinIndex   // Latin cues, by their first word (phrase.go)
	han   map[rune][]int
}

// indexedCue is a cue of a list in a cueIndex.
type indexedCue struct {
	list  int // the list's number
	latin latinPhrase
	han   string
}

func newCueIndex() *cueIndex {
	return &cueIndex{latin: newLatinIndex(), han: make(map[rune][]int)}
}

// add adds a cue list and returns its number.
func (x *cueIndex) add(cs []cue) int {
	list := x.lists
	x.lists++
	for _, c := range cs {
		n := len(x.cues)
		if c.han != "" {
			// A Han cue matches anywhere in the Han text: it is tried
			// at every character that it starts with.
			r, _ := utf8.DecodeRuneInString(c.han)
			x.han[r] = append(x.han[r], n)
			x.cues = append(x.cues, indexedCue{list: list, han: c.han})
		} else {
			p := newLatinPhrase(c.words)
			x.latin.add(n, p)
			x.cues = append(x.cues, indexedCue{list: list, latin: p})
		}
	}
	return list
}

// find returns, per list number, whether t has one of the list's cues.
func (x *cueIndex) find(t cueText) []bool {
	found := make([]bool, x.lists)
	for i, w := range t.words {
		whole, prefix := x.latin.candidates(w)
		for _, ns := range [][]int{whole, prefix} {
			for _, n := range ns {
				c := &x.cues[n]
				if !found[c.list] && c.latin.matchAt(t.words[i:]) {
					found[c.list] = true
				}
			}
		}
	}
	for i, r := range t.han {
		for _, n := range x.han[r] {
			c := &x.cues[n]
			if !found[c.list] && strings.HasPrefix(t.han[i:], c.han) {
				found[c.list] = true
			}
		}
	}
	return found
}

// intentCues holds whatCues and the cue lists of every intent rule;
// whatList and ruleCueLists say which list is which.
var (
	intentCues   = newCueIndex()
	whatList     int
	ruleCueLists []ruleLists // per intent rule
)

// ruleLists are the numbers of an intent rule's lists in intentCues.
type ruleLists struct{ cues, not, strong int }

func init() {
	whatList = intentCues.add(whatCues)
	for _, r := range intentRules {
		ruleCueLists = append(ruleCueLists, ruleLists{
			cues:   intentCues.add(r.cues),
			not:    intentCues.add(r.not),
			strong: intentCues.add(r.strong),
		})
	}
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
	found := intentCues.find(t)
	what := found[whatList]
	in := make(intent, len(intentRules))
	for i, r := range intentRules {
		l := ruleCueLists[i]
		in[i] = (found[l.cues] && !(r.notWhat && what) || found[l.strong]) && !found[l.not]
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
