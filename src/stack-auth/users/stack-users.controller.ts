import { Body, Delete, Get, Param, Patch, Post, Query } from '@nestjs/common';
import type { StackUserEntity } from '../entities/stack-user.entity.js';
import { StackAccess, StackCaller, type StackAuth } from '../http/stack-auth.guard.js';
import { StackController } from '../http/stack-controller.decorator.js';
import { ListUsersQueryDto, type ListUsersQuery } from './dto/list-users-query.dto.js';
import { StackBodyPipe, StackQueryPipe, StackUuidParamPipe, parseStackInput } from './dto/stack-validation.js';
import { ClientUserUpdateDto, ServerUserCreateDto, ServerUserUpdateDto } from './dto/user-body.dto.js';
import { StackUsersService, type UserCreateInput, type UserUpdateInput, type UsersPage } from './stack-users.service.js';
import { toClientUser, toServerUser, type ClientUser, type ServerUser } from './user-shapes.js';

/** Client access sees the client user object; server and admin access the complete one. */
function present(auth: StackAuth, user: StackUserEntity): ClientUser | ServerUser {
  return auth.type === 'client' ? toClientUser(user) : toServerUser(user);
}

/**
 * Stack Auth's users API: `/users` and `/users/{user_id}` with server (or admin) access, `/users/me`
 * for the signed-in user with any access type. Parameters are declared with interface types, so the
 * Stack-style pipes (not the global one) validate them.
 */
@StackController('users')
export class StackUsersController {
  constructor(private readonly users: StackUsersService) {}

  @Post()
  @StackAccess('server', 'admin')
  async createUser(@StackCaller() auth: StackAuth, @Body(new StackBodyPipe(ServerUserCreateDto)) body: UserCreateInput): Promise<ServerUser> {
    return toServerUser(await this.users.create(auth.project.id, body));
  }

  @Get()
  @StackAccess('server', 'admin')
  listUsers(@StackCaller() auth: StackAuth, @Query(new StackQueryPipe(ListUsersQueryDto)) query: ListUsersQuery): Promise<UsersPage> {
    return this.users.list(auth.project.id, query);
  }

  // The `me` routes are declared before `:user_id`, so they are matched first.
  @Get('me')
  @StackAccess('client', 'server', 'admin')
  getCurrentUser(@StackCaller() auth: StackAuth, @Query(new StackQueryPipe(ListUsersQueryDto)) _query: ListUsersQuery): ClientUser | ServerUser {
    return present(auth, this.users.currentUser(auth));
  }

  @Patch('me')
  @StackAccess('client', 'server', 'admin')
  async updateCurrentUser(
    @StackCaller() auth: StackAuth,
    @Query(new StackQueryPipe(ListUsersQueryDto)) _query: ListUsersQuery,
    @Body() body: unknown,
  ): Promise<ClientUser | ServerUser> {
    const input = parseStackInput<UserUpdateInput>(auth.type === 'client' ? ClientUserUpdateDto : ServerUserUpdateDto, body, 'body');
    return present(auth, await this.users.updateCurrentUser(auth, input));
  }

  @Delete('me')
  @StackAccess('client', 'server', 'admin')
  async deleteCurrentUser(@StackCaller() auth: StackAuth, @Query(new StackQueryPipe(ListUsersQueryDto)) _query: ListUsersQuery): Promise<{ success: true }> {
    await this.users.deleteCurrentUser(auth);
    return { success: true };
  }

  @Get(':user_id')
  @StackAccess('server', 'admin')
  async getUser(
    @StackCaller() auth: StackAuth,
    @Param('user_id', new StackUuidParamPipe('user_id')) userId: string,
    @Query(new StackQueryPipe(ListUsersQueryDto)) _query: ListUsersQuery,
  ): Promise<ServerUser> {
    return toServerUser(await this.users.get(auth.project.id, userId));
  }

  @Patch(':user_id')
  @StackAccess('server', 'admin')
  async updateUser(
    @StackCaller() auth: StackAuth,
    @Param('user_id', new StackUuidParamPipe('user_id')) userId: string,
    @Query(new StackQueryPipe(ListUsersQueryDto)) _query: ListUsersQuery,
    @Body(new StackBodyPipe(ServerUserUpdateDto)) body: UserUpdateInput,
  ): Promise<ServerUser> {
    return toServerUser(await this.users.update(auth.project.id, userId, body));
  }

  @Delete(':user_id')
  @StackAccess('server', 'admin')
  async deleteUser(
    @StackCaller() auth: StackAuth,
    @Param('user_id', new StackUuidParamPipe('user_id')) userId: string,
    @Query(new StackQueryPipe(ListUsersQueryDto)) _query: ListUsersQuery,
  ): Promise<{ success: true }> {
    await this.users.delete(auth.project.id, userId);
    return { success: true };
  }
}
