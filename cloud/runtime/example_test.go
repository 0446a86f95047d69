package runtime_test

import (
	"fmt"

	"github.com/mcp-agent-go/mcp-agent/cloud/runtime"
)

func ExampleParseEgressRule() {
	for _, s := range []string{"api.github.com:443", "*.example.com", "*"} {
		r, err := runtime.ParseEgressRule(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%-20s api.github.com:443=%v www.example.com:80=%v\n", s,
			r.Matches("api.github.com", 443), r.Matches("www.example.com", 80))
	}
	// Output:
	// api.github.com:443   api.github.com:443=true www.example.com:80=false
	// *.example.com        api.github.com:443=false www.example.com:80=true
	// *                    api.github.com:443=true www.example.com:80=true
}
