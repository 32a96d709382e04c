package collectors

// pairs is a small constant lookup table. A map literal at package level is built by code
// that runs at every start of the agent; a slice of string pairs is laid out by the compiler,
// and a scan of a few dozen entries, done once per collection, costs nothing measurable.
type pairs [][2]string

func (p pairs) get(key string) (string, bool) {
	for _, kv := range p {
		if kv[0] == key {
			return kv[1], true
		}
	}
	return "", false
}
