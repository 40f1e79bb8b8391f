import { type Identity, IdentityError } from './identity.js';

/** `yes`/`no`, or `unknown` when a user group could not be read and the person is not listed directly. */
export type AdminAnswer = 'yes' | 'no' | 'unknown';

/**
 * Whether `userId` is a Countersign admin: listed in COUNTERSIGN_ADMINS by user ID, or a member of a
 * listed user group (expanded through the Identity cache, so a burst of commands costs one call).
 */
export async function isAdmin(
  userId: string,
  admins: readonly string[],
  identity: Identity,
): Promise<AdminAnswer> {
  if (admins.includes(userId)) return 'yes';
  let unreadable = false;
  for (const group of admins.filter((a) => a.startsWith('S'))) {
    try {
      if ((await identity.groupMembers(group)).has(userId)) return 'yes';
    } catch (err) {
      if (!(err instanceof IdentityError)) throw err;
      unreadable = true;
    }
  }
  return unreadable ? 'unknown' : 'no';
}
