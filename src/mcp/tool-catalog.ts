/** A tool as `tools/list` describes it (only what the gateway reads). */
export interface ListedTool {
  name: string;
  description?: string;
}

/**
 * The upstream's tool descriptions, learnt from the `tools/list` answers that pass through (what
 * the agent saw) or, for a tool called before it was listed, from one listing of the gateway's own.
 * Forgotten when the upstream says its list changed.
 */
export class ToolCatalog {
  private readonly tools = new Map<string, string | null>();
  private listing: Promise<void> | null = null;

  /** Adds one page of a `tools/list` result; anything malformed is ignored. */
  add(result: unknown): void {
    const tools = (result as { tools?: unknown } | null)?.tools;
    if (!Array.isArray(tools)) return;
    for (const t of tools as ListedTool[]) {
      if (t && typeof t.name === 'string') {
        this.tools.set(t.name, typeof t.description === 'string' ? t.description : null);
      }
    }
  }

  clear(): void {
    this.tools.clear();
    this.listing = null;
  }

  /**
   * The description of `name` (null when the server gives none or does not list the tool). A tool
   * not seen yet triggers `listAll` once (shared by concurrent calls) until the list changes again.
   */
  async describe(name: string, listAll: () => Promise<void>): Promise<string | null> {
    if (!this.tools.has(name)) {
      this.listing ??= listAll().catch(() => {});
      await this.listing;
    }
    return this.tools.get(name) ?? null;
  }
}
