package hisapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// typescriptFromSchema writes TypeScript declarations for the schema's
// $defs: one type per definition, Methods (params and result per method)
// and Notifications (params per notification). It reads the subset of
// JSON Schema that web/schema.json uses.
func typescriptFromSchema(raw []byte) ([]byte, error) {
	root, err := decodeOrdered(json.NewDecoder(bytes.NewReader(raw)))
	if err != nil {
		return nil, err
	}
	doc := root.(*omap)
	defs := doc.get("$defs").(*omap)
	g := &tsgen{}
	g.p("// tiepdon HIS API, apiLevel %v: TypeScript declarations generated from schema.json", doc.get("x-apiLevel"))
	g.p("// (served at /v1/schema.json). Do not edit: edit schema.json and run")
	g.p("// go test ./agent/hisapi -run TestTypesUpToDate -update")
	g.p("")
	for _, k := range defs.keys {
		if strings.HasPrefix(k, "notification") || k == "response" {
			continue
		}
		d := defs.get(k).(*omap)
		g.doc(d, "")
		if d.get("properties") != nil && d.get("type") == "object" {
			g.p("export interface %s %s", tsName(k), g.typ(d, ""))
		} else {
			g.p("export type %s = %s;", tsName(k), g.typ(d, ""))
		}
		g.p("")
	}
	g.p("/** Every method: its params and its result. */")
	g.p("export interface Methods {")
	for _, m := range doc.get("x-methods").([]any) {
		g.p("  %q: { params: %s; result: %s };", m, tsName("params:"+m.(string)), tsName("result:"+m.(string)))
	}
	g.p("}")
	g.p("")
	g.p("/** Every notification: its params. */")
	g.p("export interface Notifications {")
	for _, m := range doc.get("x-notifications").([]any) {
		g.p("  %q: %s;", m, tsName("payload:"+m.(string)))
	}
	g.p("}")
	g.p("")
	g.p("export type MethodName = keyof Methods;")
	g.p("export type NotificationName = keyof Notifications;")
	g.p("")
	g.p("/** A notification as it arrives on the WebSocket. */")
	g.p("export type Notification = { [N in NotificationName]: { jsonrpc: \"2.0\"; method: N; params: Notifications[N] } }[NotificationName];")
	g.p("")
	g.p("/** A response as it arrives on the WebSocket. */")
	g.p("export type Response<M extends MethodName = MethodName> =")
	g.p("  | { jsonrpc: \"2.0\"; id: Id; result: Methods[M][\"result\"] }")
	g.p("  | { jsonrpc: \"2.0\"; id: Id; error: Error };")
	return g.b.Bytes(), nil
}

type tsgen struct{ b bytes.Buffer }

func (g *tsgen) p(format string, args ...any) { fmt.Fprintf(&g.b, format+"\n", args...) }

func (g *tsgen) doc(d *omap, indent string) {
	desc, _ := d.get("description").(string)
	if desc == "" {
		return
	}
	desc = strings.ReplaceAll(desc, "*/", "* /")
	g.p("%s/** %s */", indent, desc)
}

// tsName turns a definition's name into a type name:
// "params:session.hello" → SessionHelloParams, "payload:card.presented" →
// CardPresentedParams... see the cases.
func tsName(def string) string {
	kind, name, ok := strings.Cut(def, ":")
	if !ok {
		name, kind = def, ""
	}
	var b strings.Builder
	up := true
	for _, r := range name {
		if r == '.' || r == '-' {
			up = true
			continue
		}
		if up {
			b.WriteString(strings.ToUpper(string(r)))
			up = false
		} else {
			b.WriteRune(r)
		}
	}
	switch kind {
	case "params":
		b.WriteString("Params")
	case "result":
		b.WriteString("Result")
	case "payload":
		b.WriteString("Event")
	}
	s := b.String()
	switch s {
	case "Result":
		return "CheckResult"
	case "Error":
		return "RpcError"
	case "Date":
		return "CalendarDate"
	}
	return s
}

func (g *tsgen) typ(d *omap, indent string) string {
	if r, ok := d.get("$ref").(string); ok {
		return tsName(strings.TrimPrefix(r, "#/$defs/"))
	}
	if c := d.get("const"); c != nil {
		b, _ := json.Marshal(c)
		return string(b)
	}
	if e, ok := d.get("enum").([]any); ok {
		var parts []string
		for _, v := range e {
			b, _ := json.Marshal(v)
			parts = append(parts, string(b))
		}
		return strings.Join(parts, " | ")
	}
	for _, k := range []string{"anyOf", "oneOf"} {
		if alts, ok := d.get(k).([]any); ok {
			var parts []string
			for _, a := range alts {
				parts = append(parts, g.typ(a.(*omap), indent))
			}
			return strings.Join(parts, " | ")
		}
	}
	switch t := d.get("type").(type) {
	case []any:
		var parts []string
		for _, x := range t {
			parts = append(parts, tsScalar(x.(string)))
		}
		return strings.Join(parts, " | ")
	case string:
		switch t {
		case "array":
			it := g.typ(d.get("items").(*omap), indent)
			if strings.Contains(it, " | ") {
				it = "(" + it + ")"
			}
			return it + "[]"
		case "object":
			props, _ := d.get("properties").(*omap)
			if props == nil || len(props.keys) == 0 {
				return "Record<string, never>"
			}
			var req []string
			for _, r := range d.get("required").([]any) {
				req = append(req, r.(string))
			}
			var b strings.Builder
			b.WriteString("{\n")
			for _, k := range props.keys {
				pd := props.get(k).(*omap)
				sub := &tsgen{}
				sub.doc(pd, indent+"  ")
				b.Write(sub.b.Bytes())
				opt := "?"
				if slices.Contains(req, k) {
					opt = ""
				}
				fmt.Fprintf(&b, "%s  %s%s: %s;\n", indent, k, opt, g.typ(pd, indent+"  "))
			}
			b.WriteString(indent + "}")
			return b.String()
		}
		return tsScalar(t)
	}
	return "unknown"
}

func tsScalar(t string) string {
	switch t {
	case "integer", "number":
		return "number"
	case "string", "boolean", "null":
		return t
	}
	return "unknown"
}

// omap is a JSON object that keeps its keys' order.
type omap struct {
	keys []string
	vals map[string]any
}

func (m *omap) get(k string) any { return m.vals[k] }

func decodeOrdered(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			m := &omap{vals: map[string]any{}}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k := kt.(string)
				v, err := decodeOrdered(dec)
				if err != nil {
					return nil, err
				}
				m.keys = append(m.keys, k)
				m.vals[k] = v
			}
			_, err := dec.Token()
			return m, err
		case '[':
			var a []any
			for dec.More() {
				v, err := decodeOrdered(dec)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			if a == nil {
				a = []any{}
			}
			_, err := dec.Token()
			return a, err
		}
	}
	return tok, nil
}
