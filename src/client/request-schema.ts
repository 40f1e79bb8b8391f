/**
 * The request body's zod schema, exactly the one `POST /api/v1/requests` validates with.
 *
 * It lives in the core; this module re-exports it for code that stands on the client side of the
 * API. src/mcp may only import the client (docs/DESIGN.md), yet its tools' JSON Schemas must come
 * from the very schema the server checks (one source of truth), so the client hands it on here.
 */
export { type CreateRequestInput, createRequestSchema, validationIssues } from '../core/request-schema.js';
