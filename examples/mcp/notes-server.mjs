#!/usr/bin/env node
// A small MCP server (stdio) with one harmless tool and one dangerous one, to put behind the gateway:
//
//   node dist/countersign.mjs mcp-proxy --name notes -- node examples/mcp/notes-server.mjs
//
// read_note only reads; delete_note destroys a note for good. With examples/mcp/policy.yml the
// gateway lets read_note through at once and holds delete_note until someone approves it in Slack.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const notes = new Map([
  ['groceries', 'oat milk, lemons, coffee beans'],
  ['launch-plan', 'ship on Thursday after the load test'],
]);

const server = new McpServer({ name: 'notes', version: '1.0.0' });

server.registerTool(
  'read_note',
  {
    description: 'Reads one note by name. Changes nothing.',
    inputSchema: { name: z.string().describe('The note to read, e.g. "groceries".') },
    annotations: { readOnlyHint: true },
  },
  async ({ name }) => {
    const text = notes.get(name);
    return text === undefined
      ? {
          content: [
            {
              type: 'text',
              text: `There is no note named "${name}". Notes: ${[...notes.keys()].join(', ')}`,
            },
          ],
          isError: true,
        }
      : { content: [{ type: 'text', text }] };
  },
);

server.registerTool(
  'delete_note',
  {
    description: 'Deletes a note for good. There is no undo.',
    inputSchema: { name: z.string().describe('The note to delete.') },
    annotations: { destructiveHint: true },
  },
  async ({ name }) => {
    const existed = notes.delete(name);
    return {
      content: [
        {
          type: 'text',
          text: existed ? `Deleted the note "${name}".` : `There was no note named "${name}".`,
        },
      ],
    };
  },
);

await server.connect(new StdioServerTransport());
