'use client';
import { StatusBoard } from '@/components/status/StatusBoard';
import { titledPage } from '@/components/ui/TitledPage';

export default titledPage('Status', 'Live health of the Rory Manager, each MictlanX router and this app. Refreshed every 10 seconds.', StatusBoard);
