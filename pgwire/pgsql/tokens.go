package pgsql

// TokenKind is the lexical class of a Token.
type TokenKind uint8

const (
	TokWord   TokenKind = iota // unquoted identifier or keyword
	TokQIdent                  // "quoted identifier"
	TokString                  // 'string' and E'string'
	TokDollar                  // $tag$string$tag$
	TokNumber                  // 12, 1.5, 1e10
	TokParam                   // $1, and SQLite's $name
	TokOp                      // an operator, ::
	TokPunct                   // ( ) [ ] , ; .
)

// Token is a token of a statement's text: its class and byte offsets.
type Token struct {
	Kind       TokenKind
	Start, End int
}

// Tokens returns the tokens of one statement, without comments and ';'.
// It is for the callers that read a statement's text further than the
// Statement tells (the rewriting of DDL into several statements), so that
// one lexer reads SQL.
func Tokens(s string) []Token {
	var buf [64]token
	toks := lex(s, buf[:0])
	out := make([]Token, 0, len(toks))
	for _, t := range toks {
		k := TokOp
		switch t.kind {
		case tComment:
			continue
		case tPunct:
			if s[t.start] == ';' {
				continue
			}
			k = TokPunct
		case tWord:
			k = TokWord
		case tQIdent:
			k = TokQIdent
		case tString, tEString:
			k = TokString
		case tDollar:
			k = TokDollar
		case tNumber:
			k = TokNumber
		case tParam:
			k = TokParam
		}
		out = append(out, Token{Kind: k, Start: int(t.start), End: int(t.end)})
	}
	return out
}
