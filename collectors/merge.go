package collectors

import (
	"reflect"
	"time"

	"github.com/omniagent/omniagent/inventory"
)

// merge copies every non-zero field of src into dst: categories fill disjoint parts of the
// model, and where two touch the same struct (system, os) each sets only its own fields.
func merge(dst, src *inventory.Inventory) {
	mergeValue(reflect.ValueOf(dst).Elem(), reflect.ValueOf(src).Elem())
}

func mergeValue(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Struct:
		if src.Type() == reflect.TypeFor[time.Time]() {
			if !src.IsZero() {
				dst.Set(src)
			}
			return
		}
		for i := range src.NumField() {
			if !dst.Field(i).CanSet() {
				continue
			}
			mergeValue(dst.Field(i), src.Field(i))
		}
	case reflect.Slice:
		switch {
		case src.Len() == 0:
		case dst.Len() == 0:
			dst.Set(src) // the part is dropped after the merge: take its slice, no copy
		default:
			dst.Set(reflect.AppendSlice(dst, src))
		}
	default:
		if !src.IsZero() {
			dst.Set(src)
		}
	}
}
