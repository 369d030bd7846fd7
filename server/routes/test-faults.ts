/** POST/DELETE /__test/faults: registered only when RTC_TEST_HOOKS=1 (see FaultPlan). */
import type Router from '@koa/router';
import { HttpError } from '../errors';
import { parseFaultSettings, type FaultPlan } from '../faults/fault-plan';
import { jsonBody } from './json-body';

export function testFaultRoutes(router: Router, faults: FaultPlan): void {
  router.post('/__test/faults', jsonBody(4096), (ctx) => {
    try {
      faults.set(parseFaultSettings(ctx.request.body));
    } catch (error) {
      throw new HttpError(400, 'BAD_REQUEST', error instanceof Error ? error.message : 'bad fault settings');
    }
    ctx.status = 204;
  });
  router.delete('/__test/faults', (ctx) => {
    faults.clear();
    ctx.status = 204;
  });
}
