// A tiny element builder: text always goes in as text nodes (never parsed as HTML).

export type Child = Node | string | number | null | undefined | false
type Listener = (event: Event) => void
export type Attrs = Record<string, string | number | boolean | null | undefined | Listener>

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue
    if (typeof value === 'function') el.addEventListener(name.replace(/^on/, '').toLowerCase(), value)
    else if (name === 'class') el.className = String(value)
    else el.setAttribute(name, value === true ? '' : String(value))
  }
  append(el, ...children)
  return el
}

export function append(parent: Node, ...children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue
    parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)))
  }
}

export function replace(parent: Element, ...children: (Child | Child[])[]): void {
  parent.replaceChildren()
  append(parent, ...children)
}

/** Visually hidden text for screen readers. */
export const srOnly = (text: string): HTMLSpanElement => h('span', { class: 'sr-only' }, text)

/**
 * The search snippet: the API escapes everything and wraps matches in <mark>; rebuilt here from
 * text and <mark> nodes only, so nothing else the string might hold becomes markup.
 */
export function markedSnippet(html: string): DocumentFragment {
  const parsed = new DOMParser().parseFromString(`<p>${html}</p>`, 'text/html')
  const out = document.createDocumentFragment()
  for (const node of Array.from(parsed.body.firstChild?.childNodes ?? [])) {
    if (node.nodeName === 'MARK') out.appendChild(h('mark', {}, node.textContent ?? ''))
    else out.appendChild(document.createTextNode(node.textContent ?? ''))
  }
  return out
}
