/**
 * Prometheus text exposition of the controller's figures. Values are pulled from their owners at scrape
 * time (gauges) or counted where things happen (counters); nothing here talks to the API or the IaaS.
 */

type Labels = Readonly<Record<string, string>>;

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function key(labels: Labels): string {
  return Object.keys(labels).sort().map((k) => `${k}="${escapeLabel(labels[k] ?? '')}"`).join(',');
}

interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge';
  readonly values: Map<string, number>;
  readonly collect?: () => Iterable<readonly [Labels, number]>;
}

export class MetricsRegistry {
  readonly #families = new Map<string, Family>();

  #family(name: string, help: string, type: Family['type'], collect?: Family['collect']): Family {
    let f = this.#families.get(name);
    if (f === undefined) {
      f = { name, help, type, values: new Map(), ...(collect === undefined ? {} : { collect }) };
      this.#families.set(name, f);
    }
    return f;
  }

  counter(name: string, help: string): { inc(labels?: Labels, by?: number): void } {
    const f = this.#family(name, help, 'counter');
    return {
      inc(labels = {}, by = 1) {
        const k = key(labels);
        f.values.set(k, (f.values.get(k) ?? 0) + by);
      },
    };
  }

  /** A gauge (or counter, with `type`) whose samples are computed at scrape time. */
  collected(name: string, help: string, collect: () => Iterable<readonly [Labels, number]>, type: Family['type'] = 'gauge'): void {
    this.#family(name, help, type, collect);
  }

  render(): string {
    let out = '';
    for (const f of this.#families.values()) {
      out += `# HELP ${f.name} ${f.help}\n# TYPE ${f.name} ${f.type}\n`;
      const samples = new Map(f.values);
      if (f.collect !== undefined) {
        try {
          for (const [labels, value] of f.collect()) samples.set(key(labels), value);
        } catch {
          // A source that is closing answers nothing rather than failing the whole scrape.
        }
      }
      for (const [k, v] of samples) out += `${f.name}${k === '' ? '' : `{${k}}`} ${v}\n`;
    }
    return out;
  }
}
