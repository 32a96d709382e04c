package localuser

// dsclScript is the command dscl reads in interactive mode: passwd /Users/NAME [OLD] NEW,
// every argument backslash-escaped, since dscl splits its input on spaces and honours
// quotes and backslashes.
func dsclScript(c Change) []byte {
	var b []byte
	b = append(b, "passwd "...)
	b = appendEscaped(b, []byte("/Users/"+c.Username))
	if len(c.Old) > 0 {
		b = append(b, ' ')
		b = appendEscaped(b, c.Old)
	}
	b = append(b, ' ')
	b = appendEscaped(b, c.Password)
	return append(b, "\nquit\n"...)
}

func appendEscaped(b, s []byte) []byte {
	for _, ch := range s {
		switch ch {
		case ' ', '\t', '"', '\'', '\\':
			b = append(b, '\\')
		}
		b = append(b, ch)
	}
	return b
}
