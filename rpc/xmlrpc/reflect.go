package xmlrpc

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"time"
)

// reflected encodes the types value does not know by name: named scalar types (Odoo's Command
// is an int enum), typed slices and maps, pointers and interfaces.
func (e *encoder) reflected(rv reflect.Value, depth int) error {
	if depth > maxEncodeDepth {
		return fmt.Errorf("xmlrpc: cannot marshal recursive or too deeply nested value")
	}

	switch rv.Kind() {
	case reflect.Invalid:
		return fmt.Errorf("xmlrpc: %w", ErrNone)
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return fmt.Errorf("xmlrpc: %w", ErrNone)
		}
		return e.reflected(rv.Elem(), depth+1)
	case reflect.Bool:
		e.boolean(rv.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return e.int(rv.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Uintptr:
		return e.uint(rv.Uint())
	case reflect.Float32, reflect.Float64:
		e.double(rv.Float())
	case reflect.String:
		e.str(rv.String())
	case reflect.Slice, reflect.Array:
		return e.reflectList(rv, depth)
	case reflect.Map:
		return e.reflectMap(rv, depth)
	case reflect.Struct:
		return e.reflectStruct(rv)
	default:
		return unsupported(rv)
	}
	return nil
}

func (e *encoder) reflectList(rv reflect.Value, depth int) error {
	if rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.Uint8 {
		e.str(string(rv.Bytes()))
		return nil
	}
	if rv.Type().ConvertibleTo(structType) {
		return e.members(rv.Convert(structType).Interface().(Struct), depth)
	}

	e.buf.WriteString("<value><array><data>\n")
	for i := range rv.Len() {
		if err := e.reflected(rv.Index(i), depth+1); err != nil {
			return err
		}
	}
	e.buf.WriteString("</data></array></value>\n")
	return nil
}

// reflectMap writes maps keyed by any string type, sorted like [encoder.stringMap].
func (e *encoder) reflectMap(rv reflect.Value, depth int) error {
	if rv.Type().Key().Kind() != reflect.String {
		return fmt.Errorf("xmlrpc: dictionary key must be string")
	}

	keys := rv.MapKeys()
	slices.SortFunc(keys, func(a, b reflect.Value) int {
		return cmp.Compare(a.String(), b.String())
	})

	e.buf.WriteString("<value><struct>\n")
	for _, k := range keys {
		if err := e.reflectMember(k.String(), rv.MapIndex(k), depth); err != nil {
			return err
		}
	}
	e.buf.WriteString("</struct></value>\n")
	return nil
}

func (e *encoder) reflectMember(name string, v reflect.Value, depth int) error {
	e.buf.WriteString("<member>\n<name>")
	writeText(e.buf, name)
	e.buf.WriteString("</name>\n")

	if err := e.reflected(v, depth+1); err != nil {
		return err
	}
	e.buf.WriteString("</member>\n")
	return nil
}

// reflectStruct accepts only time.Time: Go structs have no agreed member names here, and
// guessing them would put fields on the wire that a caller never meant to publish.
func (e *encoder) reflectStruct(rv reflect.Value) error {
	if rv.Type() != timeType && !rv.Type().ConvertibleTo(timeType) {
		return unsupported(rv)
	}

	e.datetime(rv.Convert(timeType).Interface().(time.Time))
	return nil
}

func unsupported(rv reflect.Value) error {
	return fmt.Errorf("xmlrpc: cannot marshal %s objects", rv.Type())
}
