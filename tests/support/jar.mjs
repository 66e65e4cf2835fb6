// A browser's cookie jar, in small, for the workerd tests that drive the Worker like a browser:
// Set-Cookie lines in (set by name, deleted by Max-Age=0), a Cookie header out.

/** Cookies by name, in the order they were first set (browsers send older cookies first). */
export class Jar {
  constructor(entries = []) {
    this.cookies = new Map(entries);
  }

  /** Applies Set-Cookie lines: set by name, deleted by Max-Age=0. */
  apply(setCookies) {
    for (const line of setCookies) {
      const [pair, ...attributes] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      const maxAge = attributes.map((a) => /^\s*max-age=(-?\d+)\s*$/i.exec(a)?.[1]).find((v) => v !== undefined);
      if (maxAge !== undefined && Number(maxAge) <= 0) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  get(name) {
    return this.cookies.get(name);
  }

  set(name, value) {
    this.cookies.set(name, value);
  }

  names(prefix = '') {
    return [...this.cookies.keys()].filter((name) => name.startsWith(prefix));
  }

  header() {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  clone() {
    return new Jar(this.cookies);
  }
}
