package collectors

import (
	"fmt"

	"golang.org/x/sys/windows/registry"
)

// winRegKey is the live registry behind the regKey interface. wow pins the registry view
// (registry.WOW64_64KEY or WOW64_32KEY) for every key opened below it.
type winRegKey struct {
	k   registry.Key
	wow uint32
}

// openWinKey opens root\path read-only in the given view (0: the process's own view).
func openWinKey(root registry.Key, path string, wow uint32) (regKey, error) {
	k, err := registry.OpenKey(root, path, registry.QUERY_VALUE|registry.ENUMERATE_SUB_KEYS|wow)
	if err != nil {
		return nil, fmt.Errorf("open registry key %s: %w", path, err)
	}
	return &winRegKey{k: k, wow: wow}, nil
}

func (w *winRegKey) Open(path string) (regKey, error) { return openWinKey(w.k, path, w.wow) }

func (w *winRegKey) SubKeys() ([]string, error) {
	names, err := w.k.ReadSubKeyNames(-1)
	if err != nil {
		return nil, fmt.Errorf("list registry subkeys: %w", err)
	}
	return names, nil
}

func (w *winRegKey) String(name string) (string, bool) {
	s, _, err := w.k.GetStringValue(name)
	return s, err == nil
}

func (w *winRegKey) Integer(name string) (uint64, bool) {
	n, _, err := w.k.GetIntegerValue(name)
	return n, err == nil
}

func (w *winRegKey) Binary(name string) ([]byte, bool) {
	b, _, err := w.k.GetBinaryValue(name)
	return b, err == nil
}

func (w *winRegKey) Strings(name string) ([]string, bool) {
	s, _, err := w.k.GetStringsValue(name)
	return s, err == nil
}

func (w *winRegKey) Close() { _ = w.k.Close() }

// hklm opens a key below HKEY_LOCAL_MACHINE in the native (64-bit) view.
func hklm(path string) (regKey, error) {
	return openWinKey(registry.LOCAL_MACHINE, path, registry.WOW64_64KEY)
}
