package digitmap

import "fmt"

// Parse parses a digit map. Errors are *SyntaxError values naming the
// column and the problem; they wrap ErrSyntax.
func Parse(text string) (*Map, error) {
	p := parser{text: text}
	rules, err := p.parseMap()
	if err != nil {
		return nil, err
	}
	m := &Map{rules: make([]rule, len(rules))}
	for i, pos := range rules {
		m.rules[i] = compile(pos)
	}
	return m, nil
}

type parser struct {
	text string
	off  int
}

func (p *parser) errorf(off int, format string, args ...any) error {
	return &SyntaxError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// peek returns the next byte that is not white space, or false at the end.
func (p *parser) peek() (byte, bool) {
	for p.off < len(p.text) {
		switch c := p.text[p.off]; c {
		case ' ', '\t', '\r', '\n':
			p.off++
		default:
			return c, true
		}
	}
	return 0, false
}

func describe(c byte) string {
	if c >= 0x21 && c < 0x7f {
		return fmt.Sprintf("%q", c)
	}
	return fmt.Sprintf("byte 0x%02X", c)
}

func (p *parser) parseMap() ([][]position, error) {
	c, ok := p.peek()
	if !ok {
		return nil, p.errorf(p.off, "empty digit map")
	}
	open := -1
	if c == '(' {
		open = p.off
		p.off++
	}
	var rules [][]position
	for {
		pos, err := p.parseRule()
		if err != nil {
			return nil, err
		}
		rules = append(rules, pos)
		c, ok := p.peek()
		if !ok {
			if open >= 0 {
				return nil, p.errorf(open, "'(' is never closed")
			}
			return rules, nil
		}
		switch c {
		case '|':
			p.off++
		case ')':
			if open < 0 {
				return nil, p.errorf(p.off, "')' without '('")
			}
			p.off++
			if c, ok := p.peek(); ok {
				return nil, p.errorf(p.off, "unexpected %s after the closing ')'", describe(c))
			}
			return rules, nil
		default: // parseRule stops only at '|', ')', the end, or an error
			return nil, p.errorf(p.off, "unexpected %s", describe(c))
		}
	}
}

// parseRule parses positions up to '|', ')' or the end of the input.
func (p *parser) parseRule() ([]position, error) {
	start := p.off
	var pos []position
	for {
		c, ok := p.peek()
		if !ok || c == '|' || c == ')' {
			break
		}
		at := p.off
		switch {
		case c == '.':
			switch {
			case len(pos) == 0:
				return nil, p.errorf(at, "'.' must follow a position")
			case pos[len(pos)-1].repeat:
				return nil, p.errorf(at, "'.' repeats a position that already repeats")
			}
			pos[len(pos)-1].repeat = true
			p.off++
			continue
		case c == 'x' || c == 'X':
			pos = append(pos, position{set: digitSet})
			p.off++
		case c == '[':
			set, err := p.parseSet()
			if err != nil {
				return nil, err
			}
			pos = append(pos, position{set: set})
		case c == '(':
			return nil, p.errorf(at, "'(' is only allowed around the whole map")
		default:
			sym, ok := symbolOf(c)
			if !ok {
				return nil, p.errorf(at, "unexpected %s; want a digit, *, #, A-D, T, x, [ or .", describe(c))
			}
			pos = append(pos, position{set: 1 << sym})
			p.off++
		}
		if len(pos) > MaxPositions {
			return nil, p.errorf(at, "rule has more than %d positions", MaxPositions)
		}
	}
	if len(pos) == 0 {
		return nil, p.errorf(start, "empty rule")
	}
	return pos, nil
}

// parseSet parses "[...]" starting at '['.
func (p *parser) parseSet() (symSet, error) {
	open := p.off
	p.off++
	var set symSet
	for {
		c, ok := p.peek()
		if !ok {
			return 0, p.errorf(open, "'[' is never closed")
		}
		at := p.off
		switch {
		case c == ']':
			p.off++
			if set == 0 {
				return 0, p.errorf(open, "empty set '[]'")
			}
			return set, nil
		case c == '-':
			return 0, p.errorf(at, "'-' needs a digit on each side")
		case c == 'x' || c == 'X':
			return 0, p.errorf(at, "'x' inside '[ ]'; write 0-9")
		case c == '[' || c == '.' || c == '|' || c == '(' || c == ')':
			return 0, p.errorf(at, "unexpected %s inside '[ ]'", describe(c))
		}
		sym, ok := symbolOf(c)
		if !ok {
			return 0, p.errorf(at, "unexpected %s inside '[ ]'", describe(c))
		}
		p.off++
		if d, ok := p.peek(); !ok || d != '-' {
			set |= 1 << sym
			continue
		}
		dash := p.off
		p.off++
		hi, ok := p.peek()
		if !ok || hi < '0' || hi > '9' || sym > 9 {
			return 0, p.errorf(dash, "'-' needs a digit on each side")
		}
		if int(hi-'0') < sym {
			return 0, p.errorf(at, "range %c-%c runs backwards", c, hi)
		}
		p.off++
		for s := sym; s <= int(hi-'0'); s++ {
			set |= 1 << s
		}
	}
}
