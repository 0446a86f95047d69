package fetch

import (
	"bytes"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/JohannesKaufmann/html-to-markdown/v2/converter"
	"github.com/JohannesKaufmann/html-to-markdown/v2/plugin/base"
	"github.com/JohannesKaufmann/html-to-markdown/v2/plugin/commonmark"
	"github.com/JohannesKaufmann/html-to-markdown/v2/plugin/table"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// kind is how a response body is treated.
type kind int

const (
	kindRefused kind = iota
	kindHTML
	kindText
)

// classify decides from the Content-Type header (sniffing the body when the
// header is missing) whether a body is HTML, text or refused. It returns the
// media type it decided on.
func classify(header string, body []byte) (kind, string, map[string]string) {
	mt, params, err := mime.ParseMediaType(header)
	if header == "" || err != nil {
		mt, params, _ = mime.ParseMediaType(http.DetectContentType(body))
	}
	switch {
	case mt == "text/html" || mt == "application/xhtml+xml":
		return kindHTML, mt, params
	case strings.HasPrefix(mt, "text/"),
		mt == "application/json", strings.HasSuffix(mt, "+json"), mt == "application/x-ndjson",
		mt == "application/xml", strings.HasSuffix(mt, "+xml"),
		mt == "application/javascript", mt == "application/ecmascript",
		mt == "application/yaml", mt == "application/x-yaml", mt == "application/toml":
		return kindText, mt, params
	}
	return kindRefused, mt, params
}

// decodeText returns body as valid UTF-8. ISO-8859-1 is decoded; other
// non-UTF-8 charsets are not supported and invalid bytes become U+FFFD.
func decodeText(body []byte, params map[string]string) string {
	switch strings.ToLower(params["charset"]) {
	case "iso-8859-1", "latin1", "l1", "iso_8859-1":
		var b strings.Builder
		b.Grow(len(body))
		for _, c := range body {
			b.WriteRune(rune(c))
		}
		return b.String()
	}
	if utf8.Valid(body) {
		return string(body)
	}
	return strings.ToValidUTF8(string(body), "\uFFFD")
}

// noise is removed before conversion: page chrome rather than content.
var noise = []string{"nav", "aside", "footer", "svg", "canvas", "template", "form", "button", "select", "dialog"}

func newConverter() *converter.Converter {
	conv := converter.NewConverter(converter.WithPlugins(
		base.NewBasePlugin(), // drops script, style, head, iframe, noscript, ...
		commonmark.NewCommonmarkPlugin(),
		table.NewTablePlugin(),
	))
	for _, tag := range noise {
		conv.Register.TagType(tag, converter.TagTypeRemove, converter.PriorityStandard)
	}
	return conv
}

// toMarkdown converts an HTML page to markdown. When the page has a <main>
// element, or exactly one <article>, only that part is converted, which
// drops headers, menus and sidebars around the content. Relative links are
// made absolute against pageURL.
func (f *fetcher) toMarkdown(page, pageURL string) (string, error) {
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		return "", err
	}
	root := doc
	if m := findAll(doc, atom.Main); len(m) == 1 {
		root = m[0]
	} else if a := findAll(doc, atom.Article); len(a) == 1 {
		root = a[0]
	}
	md, err := f.conv.ConvertNode(root, converter.WithDomain(pageURL))
	if err != nil {
		return "", err
	}
	return string(bytes.TrimSpace(md)), nil
}

// findAll returns the elements with tag a, stopping at 2 (callers only care
// whether there is exactly one).
func findAll(n *html.Node, a atom.Atom) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if len(out) > 1 {
			return
		}
		if n.Type == html.ElementNode && n.DataAtom == a {
			out = append(out, n)
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}
